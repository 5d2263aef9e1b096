"""Talk to Chaptan: ask by voice or text about your videos; the answer is shown and spoken.

Two limits, both CHAPTAN_SEATS: who is in the room (a seat per person, see chaptan/accounts/seats.py:
taken when the tab opens, freed when the page leaves it, closes or idles), and how many turns run at
once (every event here shares the "voice" concurrency group with that limit set on each).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable

import gradio as gr

from ..accounts.seats import SeatRefused, SeatState, SeatStatus
from ..errors import ChaptanError
from ..messages import Message
from ..services import Services
from ..timecode import BRACKETED, parse_timestamp
from .common import Player, api_errors, finished_choices, requester, user_errors, video_link
from .i18n import ASK_PLACEHOLDER, NO_VIDEO_CHOSEN, VOICE_NOTE, language_of, localized, t, translate

VOICE_ID = "voice"
CHAT_VIDEO_ID = "chaptan-chat-video"
TURN_SECONDS = 120.0  # a turn longer than this is cut short, so a seat is never held forever
SEAT_POLL_SECONDS = 2.0  # how often an open voice tab asks where it stands in line

# Clicking a [mm:ss] citation in the chat seeks the player beside it.
SEEK_JS = f"""
<script>
document.addEventListener('click', (event) => {{
  const link = event.target.closest('a[href^="#t="]');
  if (!link) return;
  event.preventDefault();
  const video = document.querySelector('#{CHAT_VIDEO_ID} video');
  if (video) {{ video.currentTime = parseFloat(link.getAttribute('href').slice(3)); video.play(); }}
}}, true);
</script>
"""


def linkify(text: str) -> str:
    """[12:34] -> a link the page script turns into a seek of the player."""
    def link(match: re.Match[str]) -> str:
        return f"[{match.group(0)}](#t={parse_timestamp(match.group(0)):g})"
    return BRACKETED.sub(link, text)


def seat_note(state: SeatState, language: str) -> str:
    if state.status is SeatStatus.SEATED:
        return translate("You have a seat in the voice chat.", language)
    if state.status is SeatStatus.WAITING:
        waiting = Message("All seats are taken ({seats}): you are number {position} in line. "
                          "This updates by itself.", seats=state.seats, position=state.position)
        return translate(waiting, language)
    if state.status is SeatStatus.ELSEWHERE:
        return translate("Your seat is in use in another tab or browser.", language)
    return translate("You have no seat in the voice chat (it is freed after a while without "
                     "questions).", language)


def build_voice_tab(demo: gr.Blocks, services: Services,
                    videos_changed: gr.State) -> Callable[[gr.Tab, list[gr.Tab]], None]:
    """The tab's content; returns how to wire the seat to the tab's opening and leaving, which needs
    the Tab objects that build_app makes around it."""
    assistant = services.assistant
    room = services.seats
    group = {"concurrency_id": VOICE_ID, "concurrency_limit": services.settings.seats}
    voices = [(f"{e.name} ({e.language})", e.name) for e in assistant.voices.entries]
    with gr.Row():
        seat = gr.Markdown(elem_id="chaptan-seat")
        move_seat = gr.Button(t("Move the seat here"), visible=False, size="sm", scale=0, min_width=160)
        take_seat = gr.Button(t("Take a seat"), visible=False, size="sm", scale=0, min_width=160)
    seat_timer = gr.Timer(SEAT_POLL_SECONDS, active=False)
    with gr.Row(equal_height=False):
        with gr.Column(scale=3):
            chat = gr.Chatbot(label=t("Chaptan"), height=420, buttons=["copy"],
                              placeholder=t(ASK_PLACEHOLDER))
            with gr.Row():
                typed = gr.Textbox(label=t("Type"), placeholder=t("Your question"), scale=4, lines=1)
                send = gr.Button(t("Send"), variant="primary", scale=1)
            spoken = gr.Audio(label=t("Or speak"), sources=["microphone", "upload"], type="filepath")
            reply_audio = gr.Audio(label=t("Chaptan says"), streaming=True, autoplay=True, interactive=False)
        with gr.Column(scale=2):
            video = gr.Dropdown(label=t("About this video"), choices=[(t("No video"), "")], value="")
            voice = gr.Dropdown(label=t("Voice"), choices=voices, value=assistant.voices.default_name)
            player = Player(label=t("Player"), interactive=False, elem_id=CHAT_VIDEO_ID, visible=False)
            no_player = gr.Markdown(t(NO_VIDEO_CHOSEN), elem_classes=["chaptan-empty"])
            memory = gr.Markdown()
            clear = gr.Button(t("Clear memory"))
            gr.Markdown(t(VOICE_NOTE))

    def memory_note(req, language: str = "en") -> str:
        memory = assistant.memory(req)
        count = len(memory.history())
        note = ("Memory: {count} message, {used} of {limit} tokens (Chaptan's persona included)."
                if count == 1 else
                "Memory: {count} messages, {used} of {limit} tokens (Chaptan's persona included).")
        return translate(Message(note, count=count, used=memory.tokens(),
                                 limit=services.settings.memory_tokens), language)

    def videos_choices(req) -> gr.Dropdown:
        return gr.Dropdown(choices=[(t("No video"), ""), *finished_choices(services.library.jobs(req))])

    @user_errors
    def on_load(request: gr.Request):
        req = requester(services, request)
        history = [{"role": m["role"], "content": linkify(m["content"])}
                   for m in assistant.memory(req).history()]
        return videos_choices(req), history, memory_note(req, language_of(request))

    demo.load(on_load, None, [video, chat, memory], api_visibility="private")

    @user_errors
    def videos_to_ask_about(request: gr.Request):
        return videos_choices(requester(services, request))

    videos_changed.change(videos_to_ask_about, None, [video], api_visibility="private",
                          show_progress="hidden")

    @user_errors
    def on_video(job_id: str, request: gr.Request):
        """The chosen video in the player; with none, a note where the player would be."""
        req = requester(services, request)
        if not job_id:
            return Player(value=None, visible=False), gr.Markdown(visible=True)
        job = services.library.job(req, job_id)
        return Player(value=video_link(services, req, job), visible=True), gr.Markdown(visible=False)

    video.change(on_video, [video], [player, no_player], api_visibility="private")

    def seat_view(state: SeatState, request: gr.Request) -> tuple:
        return (seat_note(state, language_of(request)),
                gr.Button(visible=state.status is SeatStatus.ELSEWHERE),
                gr.Button(visible=state.status is SeatStatus.OUT))

    seat_outputs = [seat, move_seat, take_seat]

    @user_errors
    def on_open(request: gr.Request):
        req = requester(services, request)
        return (*seat_view(room.join(req.name, request.session_hash), request), gr.Timer(active=True))

    @user_errors
    def on_leave(request: gr.Request):
        req = requester(services, request)
        room.leave(req.name, request.session_hash)
        return gr.Timer(active=False)

    @user_errors
    def on_seat_poll(request: gr.Request):
        req = requester(services, request)
        return seat_view(room.poll(req.name, request.session_hash), request)

    @user_errors
    def on_move_seat(request: gr.Request):
        req = requester(services, request)
        return seat_view(room.move_here(req.name, request.session_hash), request)

    def on_page_closed(request: gr.Request):
        if request is not None and request.username:
            room.leave(request.username, request.session_hash)

    seat_timer.tick(on_seat_poll, None, seat_outputs, api_visibility="private", show_progress="hidden")
    for button in (move_seat, take_seat):
        button.click(on_move_seat, None, seat_outputs, api_visibility="private")
    demo.unload(on_page_closed)

    @user_errors
    def on_turn(audio: str | None, text: str, job_id: str, voice_name: str, history: list,
                request: gr.Request):
        """Hear, then stream the reply into the chat and its speech sentence by sentence."""
        req = requester(services, request)
        try:
            room.take_turn(req.name, request.session_hash)
        except SeatRefused as refusal:
            # A refusal, not an error: the question stays in its box and the chat as it was.
            gr.Warning(localized(refusal.message, request))
            yield gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()
            return
        started = time.monotonic()
        question = assistant.hear(audio) if audio else (text or "").strip()
        if not question:
            raise gr.Error("Type a question or record one first.")
        history = list(history or []) + [{"role": "user", "content": question},
                                         {"role": "assistant", "content": "…"}]
        yield history, None, "", None, gr.skip()
        reply = {"text": ""}

        def pieces():
            for piece in assistant.stream_reply(req, question, job_id or ""):
                reply["text"] += piece
                if time.monotonic() - started > TURN_SECONDS:
                    reply["text"] += " … (cut short: this turn took too long)"
                    return
                yield piece

        for chunk in assistant.speak_sentences(pieces(), voice_name or ""):
            history[-1] = {"role": "assistant", "content": linkify(reply["text"])}
            yield history, chunk, gr.skip(), gr.skip(), gr.skip()
        note = assistant.unspoken_note(reply["text"]) if reply["text"].strip() else ""
        text = f"{reply['text']}\n\n{note}" if note else reply["text"]
        history[-1] = {"role": "assistant", "content": linkify(text) or "…"}
        yield history, gr.skip(), gr.skip(), gr.skip(), memory_note(req, language_of(request))

    turn_inputs = [spoken, typed, video, voice, chat]
    turn_outputs = [chat, reply_audio, typed, spoken, memory]
    for trigger in (send.click, typed.submit, spoken.stop_recording):
        trigger(on_turn, turn_inputs, turn_outputs, api_visibility="private", **group)

    @user_errors
    def on_clear(request: gr.Request):
        req = requester(services, request)
        assistant.memory(req).clear()
        return [], memory_note(req, language_of(request))

    clear.click(on_clear, None, [chat, memory], api_visibility="private", **group)

    # Non-streaming endpoints for gradio_client, which cannot call streaming events.
    with gr.Column(visible=False):
        api_audio = gr.Audio(type="filepath", label="audio")
        api_text = gr.Textbox(label="text")
        api_job = gr.Textbox(label="job_id")
        api_voice = gr.Textbox(label="voice")
        out_user = gr.Textbox(label="user_text")
        out_reply = gr.Textbox(label="reply_text")
        out_audio = gr.Audio(type="filepath", label="reply_audio")
        out_note = gr.Textbox(label="note")
        api_trigger = gr.Button()

    @api_errors
    def voice_turn(audio: str | None, text: str, job_id: str, voice_name: str, request: gr.Request):
        """One whole turn: (user_text, reply_text, reply_audio)."""
        req = requester(services, request)
        if not audio and not (text or "").strip():
            raise ChaptanError("give a recording or a text question")
        with room.seat_for_call(req.name):
            result = assistant.turn(req, audio=audio or None, text=text or "",
                                    job_id=(job_id or "").strip(), voice=(voice_name or "").strip())
        # A reply no installed voice speaks has no audio (its text says so).
        return result.user_text, result.reply_text, result.reply_audio if result.voice else None

    api_trigger.click(voice_turn, [api_audio, api_text, api_job, api_voice],
                      [out_user, out_reply, out_audio], api_name="voice_turn", **group)

    @api_errors
    def clear_memory(request: gr.Request) -> str:
        req = requester(services, request)
        assistant.memory(req).clear()
        return memory_note(req)

    api_trigger.click(clear_memory, None, [out_note], api_name="clear_memory", **group)

    def wire(voice_tab: gr.Tab, other_tabs: list[gr.Tab]) -> None:
        voice_tab.select(on_open, None, [*seat_outputs, seat_timer], api_visibility="private")
        for tab in other_tabs:
            tab.select(on_leave, None, [seat_timer], api_visibility="private")

    return wire
