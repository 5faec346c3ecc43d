// Live updates: a server-sent events stream read with fetch (EventSource
// cannot send the bearer token), resumed with Last-Event-ID; when the
// gateway has no stream for the page (404 or 405), polling instead.

import { session } from "./api.js";

export const pollSeconds = 10;

// follow calls onEvent for every event on the stream at path (or every
// pollSeconds without one) and onState with words for the user. It answers
// the function that stops it all.
export function follow(path, onEvent, onState) {
  const abort = new AbortController();
  let timer = null;
  let lastId = "";
  let backoff = 1000;
  let stopped = false;

  const poll = () => {
    onState(`checking every ${pollSeconds} seconds`);
    const tick = async () => {
      if (stopped) return;
      await onEvent(null);
      if (!stopped) timer = setTimeout(tick, pollSeconds * 1000);
    };
    timer = setTimeout(tick, pollSeconds * 1000);
  };

  const connect = async () => {
    const s = session();
    if (!s || stopped) return;
    const headers = { Accept: "text/event-stream", Authorization: `Bearer ${s.token}` };
    if (lastId) headers["Last-Event-ID"] = lastId;
    let res;
    try {
      res = await fetch(path, { headers, signal: abort.signal });
    } catch {
      return retry();
    }
    if (res.status === 404 || res.status === 405 || res.status === 501) {
      poll();
      return;
    }
    if (!res.ok || !(res.headers.get("Content-Type") || "").startsWith("text/event-stream")) {
      // The stream is there but failing (its service down, say): catch up
      // once now, then try the stream again later.
      await onEvent(null);
      return retry();
    }
    onState("connected");
    backoff = 1000;
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buf = "";
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += value.replace(/\r\n?/g, "\n");
        let cut;
        while ((cut = buf.indexOf("\n\n")) >= 0) {
          const block = buf.slice(0, cut);
          buf = buf.slice(cut + 2);
          let data = false;
          for (const line of block.split("\n")) {
            if (line.startsWith("id:")) lastId = line.slice(3).trim();
            if (line.startsWith("data:")) data = true;
          }
          if (data) await onEvent(block);
        }
      }
    } catch {
      // aborted or the connection dropped: retry below unless stopped
    }
    retry();
  };

  const retry = () => {
    if (stopped) return;
    onState("reconnecting…");
    timer = setTimeout(connect, backoff);
    backoff = Math.min(backoff * 2, 30000);
  };

  connect();
  return () => {
    stopped = true;
    abort.abort();
    clearTimeout(timer);
  };
}
