/**
 * Keeps the dashboard and the video page current without a reload.
 *
 * It polls /api/live/videos (heaters/server/api_live.py says why a poll and not a stream): each video's
 * progress, already in words with its time left, is redrawn in place in its [data-progress] box; when a
 * video's mark differs from the one the page was rendered with (its state, its clips, its thumbnail changed),
 * or a video appears or goes, the page fetches its own HTML again and swaps its [data-live] regions, so the
 * server's templates stay the only place that renders them. Forms outside those regions (the ingest form) are
 * left as they are.
 */

const BUSY = 2000; // ms between polls while a video is waiting for or in a stage (workers beat once a second)
const IDLE = 10000; // while everything shown is finished: only new videos and exports can change it

/** Redraw one progress box from `status` ({percent, text}). */
export function drawProgress(box, status) {
  const bar = box.querySelector(".progress");
  if (bar) {
    bar.hidden = status.percent === null;
    bar.title = status.text;
    if (status.percent !== null) bar.firstElementChild.style.width = `${status.percent}%`;
  }
  const text = box.querySelector("[data-progress-text]");
  if (text) text.textContent = status.text;
}

/** Fetch this page again and put its fresh [data-live] regions in place of the old ones. */
async function refresh() {
  const response = await fetch(location.href, { headers: { "x-heaters-live": "1" }, credentials: "same-origin" });
  if (!response.ok || !(response.headers.get("content-type") || "").startsWith("text/html")) return;
  const fresh = new DOMParser().parseFromString(await response.text(), "text/html");
  for (const region of document.querySelectorAll("[data-live]")) {
    const next = fresh.querySelector(`[data-live="${region.dataset.live}"]`);
    if (next) region.replaceWith(document.adoptNode(next));
  }
  document.dispatchEvent(new CustomEvent("heaters:refreshed"));
}

/**
 * Follow the videos `url` lists. `everyVideo`: the page shows every video, so one that is not on the page
 * (new) or one on the page that is not listed (gone) also makes it fetch itself again.
 */
export function followVideos({ url, everyVideo = false }) {
  let timer = null;
  let running = false;

  async function tick() {
    timer = null;
    if (document.hidden || running) return; // a hidden page is resumed by visibilitychange
    running = true;
    let wait = IDLE;
    try {
      const response = await fetch(url, { headers: { accept: "application/json" }, credentials: "same-origin" });
      if (response.ok) {
        const { videos } = await response.json();
        let stale = false;
        const listed = new Set();
        for (const video of videos) {
          listed.add(String(video.id));
          if (!video.status.finished) wait = BUSY;
          const box = document.querySelector(`[data-progress="${video.id}"]`);
          if (!box) {
            stale ||= everyVideo;
            continue;
          }
          if (box.dataset.mark !== video.mark) stale = true;
          drawProgress(box, video.status);
        }
        if (everyVideo) {
          for (const box of document.querySelectorAll("[data-progress]")) stale ||= !listed.has(box.dataset.progress);
        }
        if (stale) await refresh();
      }
    } catch (error) {
      // The server is away for a moment (a restart, the network): ask again later.
    }
    running = false;
    schedule(wait);
  }

  function schedule(wait) {
    if (timer === null) timer = setTimeout(tick, wait);
  }

  document.addEventListener("visibilitychange", () => {
    if (!document.hidden && timer === null && !running) tick();
  });
  /** Ask now (after an upload, say) instead of at the next turn. */
  function pollNow() {
    if (timer !== null) clearTimeout(timer);
    timer = null;
    tick();
  }

  window.heatersLive = { refresh, poll: pollNow };
  schedule(BUSY);
}
