"""Views of a video's time beside its player, each tied to the player by its elem_id (data-player):

- the chapter strip: each chapter drawn over its share of the video's length, with the playhead, so a
  wrong chapter (too short, in the wrong place) is seen at a glance;
- the transcript as a list of timed lines, the line being spoken marked, search matches highlighted.

A click on a chapter or a line seeks the player to its start. Both are plain HTML; the page script
TIMELINE_JS (launched in the page's head) seeks and follows playback, so neither costs a server round
trip. It also gives the player a WebVTT chapters track made from the strip (`<track kind="chapters">`)
and marks each chapter's start on the player's own progress bar from that track's cues. The track is
built in the page from what the page already shows, so it is never a file on the server another
account could fetch, and in the editor it follows unsaved edits.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence

from ..chapters.model import Chapter
from ..timecode import timestamp
from ..transcript import Segment

TIMELINE_JS = """
<script>
document.addEventListener('click', (event) => {
  const target = event.target.closest('[data-player] [data-seek]');
  if (!target) return;
  const view = target.closest('[data-player]');
  const video = document.querySelector(`#${view.dataset.player} video`);
  if (video) video.currentTime = parseFloat(target.dataset.seek);
}, true);
// timeupdate does not bubble, but a capturing listener on the document hears every player's.
document.addEventListener('timeupdate', (event) => {
  const video = event.target;
  if (!(video instanceof HTMLVideoElement)) return;
  const host = video.closest('[id^="chaptan-"]');
  if (!host) return;
  for (const strip of document.querySelectorAll(`.chaptan-timeline[data-player="${host.id}"]`)) {
    const share = Math.min(1, video.currentTime / parseFloat(strip.dataset.duration));
    strip.querySelector('.chaptan-playhead').style.left = `${(share * 100).toFixed(3)}%`;
  }
  for (const list of document.querySelectorAll(`.chaptan-transcript[data-player="${host.id}"]`)) {
    for (const line of list.querySelectorAll('.chaptan-line')) {
      const now = parseFloat(line.dataset.seek) <= video.currentTime
        && video.currentTime < parseFloat(line.dataset.end);
      if (now && !line.classList.contains('current')) {
        line.classList.add('current');
        list.scrollTop = line.offsetTop - list.offsetTop - list.clientHeight / 3;
      } else if (!now) {
        line.classList.remove('current');
      }
    }
  }
}, true);
// The chapters track of each player with a chapter strip, and its marks on the progress bar.
const chaptanVtt = (text) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const chaptanClock = (seconds) =>
  new Date((Number.isFinite(seconds) ? Math.max(0, seconds) : 0) * 1000).toISOString().slice(11, 23);
function chaptanMarks(video, track) {
  const host = video.closest('[id^="chaptan-"]');
  const bar = host && host.querySelector('progress');
  if (!bar || !bar.offsetParent || !track.cues) return;
  let marks = bar.offsetParent.querySelector(':scope > .chaptan-marks');
  if (!marks) {
    marks = document.createElement('div');
    marks.className = 'chaptan-marks';
    bar.offsetParent.appendChild(marks);
    new ResizeObserver(() => chaptanPlace(bar, marks)).observe(bar);
  }
  chaptanPlace(bar, marks);
  const duration = parseFloat(video.dataset.chaptanDuration);
  marks.replaceChildren(...Array.from(track.cues).filter((cue) => cue.startTime > 0).map((cue) => {
    const mark = document.createElement('span');
    mark.style.left = `${(Math.min(1, cue.startTime / duration) * 100).toFixed(3)}%`;
    return mark;
  }));
}
function chaptanPlace(bar, marks) {
  const box = bar.getBoundingClientRect(), host = bar.offsetParent.getBoundingClientRect();
  Object.assign(marks.style, {left: `${box.left - host.left}px`, top: `${box.top - host.top}px`,
                              width: `${box.width}px`, height: `${box.height}px`});
}
function chaptanTracks() {
  for (const strip of document.querySelectorAll('.chaptan-timeline[data-player]')) {
    const video = document.querySelector(`#${strip.dataset.player} video`);
    if (!video) continue;
    const cues = Array.from(strip.querySelectorAll('.chaptan-chapter'), (chapter, i) =>
      `${i + 1}\\n${chaptanClock(parseFloat(chapter.dataset.seek))} --> `
      + `${chaptanClock(parseFloat(chapter.dataset.end))}\\n${chaptanVtt(chapter.textContent)}\\n`);
    const vtt = `WEBVTT\\n\\n${cues.join('\\n')}`;
    const old = video.querySelector('track[kind="chapters"]');
    if (old && old.dataset.vtt === vtt) {
      if (!document.querySelector(`#${strip.dataset.player} .chaptan-marks`)) chaptanMarks(video, old.track);
      continue;
    }
    if (old) { URL.revokeObjectURL(old.src); old.remove(); }
    const track = document.createElement('track');
    track.kind = 'chapters';
    track.label = 'Chapters';
    track.dataset.vtt = vtt;
    video.dataset.chaptanDuration = strip.dataset.duration;
    track.addEventListener('load', () => chaptanMarks(video, track.track));
    track.src = URL.createObjectURL(new Blob([vtt], {type: 'text/vtt'}));
    video.appendChild(track);
    track.track.mode = 'hidden';  // loads the cues without showing them as captions
  }
}
let chaptanPending = false;
const chaptanSoon = () => {
  if (chaptanPending) return;
  chaptanPending = true;
  requestAnimationFrame(() => { chaptanPending = false; chaptanTracks(); });
};
// A strip or a player that appears, a new video, and a player shown again (a bar in a hidden tab has
// no size to mark) each bring the track and the marks up to date.
document.addEventListener('loadedmetadata', chaptanSoon, true);
document.addEventListener('pointerover', (event) => {
  const over = event.target instanceof Element ? event.target : null;
  if (over && over.closest('[id^="chaptan-"] video, [id^="chaptan-"] progress')) chaptanSoon();
}, true);
new MutationObserver(chaptanSoon).observe(document.documentElement, {
  childList: true, subtree: true, attributes: true, attributeFilter: ['src', 'data-duration']});
</script>
"""

CSS = """
.chaptan-timeline {position: relative; height: 34px; margin: 4px 0; border-radius: 6px; overflow: hidden;
  background: var(--border-color-primary);}
.chaptan-chapter {position: absolute; top: 0; bottom: 0; padding: 0 4px; border: 0;
  border-right: 2px solid var(--background-fill-primary); background: var(--color-accent-soft);
  color: var(--body-text-color); font-size: 12px; text-align: left; cursor: pointer; overflow: hidden;
  white-space: nowrap; text-overflow: ellipsis;}
.chaptan-chapter:nth-of-type(even) {background: var(--primary-200);}
.chaptan-chapter:hover {filter: brightness(0.92);}
.chaptan-playhead {position: absolute; top: 0; bottom: 0; left: 0; width: 2px; background: #d33;
  pointer-events: none;}
.chaptan-marks {position: absolute; pointer-events: none;}
.chaptan-marks > span {position: absolute; top: -2px; bottom: -2px; width: 3px; margin-left: -1px;
  background: #f59e0b; border-radius: 1px;}
.chaptan-transcript {max-height: 320px; overflow-y: auto; position: relative;}
.chaptan-line {display: flex; gap: 0.8em; width: 100%; padding: 3px 6px; border: 0; border-radius: 4px;
  background: none; color: var(--body-text-color); text-align: left; cursor: pointer;}
.chaptan-line:hover {background: var(--background-fill-secondary);}
.chaptan-line.current {background: var(--color-accent-soft);}
.chaptan-line time {flex: none; min-width: 3.5em; color: var(--body-text-color-subdued);
  font-variant-numeric: tabular-nums;}
.chaptan-transcript mark {background: #fde68a; color: inherit; border-radius: 2px;}
"""


def timeline_html(chapters: Sequence[Chapter], duration: float, player_id: str) -> str:
    """The strip for `chapters` of a `duration`-second video played by the player `player_id`;
    empty when there is nothing to draw."""
    if not chapters or duration <= 0:
        return ""
    parts = []
    for chapter in chapters:
        start = min(max(chapter.start, 0.0), duration)
        end = min(max(chapter.end, start), duration)
        label = html.escape(f"{timestamp(chapter.start, pad_minutes=False)} {chapter.title}", quote=True)
        parts.append(f"<button type='button' class='chaptan-chapter' data-seek='{chapter.start:g}' "
                     f"data-end='{chapter.end:g}' "
                     f"title='{label}' style='left:{start / duration * 100:.3f}%;"
                     f"width:{(end - start) / duration * 100:.3f}%'>{html.escape(chapter.title)}</button>")
    return (f"<div class='chaptan-timeline' data-player='{player_id}' data-duration='{duration:g}'>"
            f"{''.join(parts)}<div class='chaptan-playhead'></div></div>")


def transcript_html(segments: Sequence[Segment], player_id: str, query: str = "",
                    no_matches: str = "") -> str:
    """The transcript's lines, each with its start time; with a `query`, only the lines that contain
    it (case-insensitively), the matches marked, and `no_matches` when there are none."""
    needle = query.strip()
    # A capturing group, so split() returns the text between matches and the matches, alternating.
    pattern = re.compile(f"({re.escape(needle)})", re.IGNORECASE) if needle else None
    lines = []
    for segment in segments:
        text = segment.text.strip()
        if pattern is not None and not pattern.search(text):
            continue
        pieces = pattern.split(text) if pattern is not None else [text]
        shown = "".join(f"<mark>{html.escape(piece)}</mark>" if i % 2 else html.escape(piece)
                        for i, piece in enumerate(pieces))
        lines.append(f"<button type='button' class='chaptan-line' data-seek='{segment.start:g}' "
                     f"data-end='{segment.end:g}'><time>{timestamp(segment.start, pad_minutes=False)}</time>"
                     f"<span>{shown}</span></button>")
    if not lines:
        return f"<p class='chaptan-no-matches'>{html.escape(no_matches)}</p>" if needle else ""
    return f"<div class='chaptan-transcript' data-player='{player_id}'>{''.join(lines)}</div>"
