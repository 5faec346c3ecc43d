// Live updates: a server-sent events stream read with fetch (EventSource
// cannot send the bearer token), resumed with Last-Event-ID; when the
// gateway has no stream for the page (404 or 405), polling instead, and
// while the stream is failing, polling until it is back.

import { session } from "./api.js";

export const pollSeconds = 10;

// follow calls onEvent for every event on the stream at path (or every
// pollSeconds without one) and onState with words for the user. It answers
// the function that stops it all.
export function follow(path, onEvent, onState) {
  const abort = new AbortController();
  let pollTimer = null;
  let streamTimer = null;
  let lastId = "";
  let backoff = 1000;
  let stopped = false;

  const startPolling = (why) => {
    onState(why);
    if (pollTimer !== null) return;
    const tick = async () => {
      if (stopped || pollTimer === null) return;
      await onEvent(null);
      if (!stopped && pollTimer !== null) pollTimer = setTimeout(tick, pollSeconds * 1000);
    };
    pollTimer = setTimeout(tick, pollSeconds * 1000);
  };
  const stopPolling = () => {
    clearTimeout(pollTimer);
    pollTimer = null;
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
      startPolling(`checking every ${pollSeconds} seconds`);
      return;
    }
    if (!res.ok || !(res.headers.get("Content-Type") || "").startsWith("text/event-stream")) {
      // The stream is there but failing (its service down, say): catch up
      // now, poll meanwhile, and try the stream again later.
      await onEvent(null);
      return retry();
    }
    stopPolling();
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
    startPolling("reconnecting…");
    streamTimer = setTimeout(connect, backoff);
    backoff = Math.min(backoff * 2, 30000);
  };

  connect();
  return () => {
    stopped = true;
    abort.abort();
    stopPolling();
    clearTimeout(streamTimer);
  };
}
