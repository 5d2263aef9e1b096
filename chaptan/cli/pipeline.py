"""The pipeline commands: `transcribe`, `chapter` and `embed`.

Results go to stdout or -o; progress and messages go to stderr, so output can be piped. Heavy
imports (faster-whisper, the chapter models) happen inside the commands, keeping --help instant."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..config import GENERATORS
from ..errors import ChaptanError

TRANSCRIPT_FORMAT_NAMES = ("json", "srt", "vtt", "txt")
CHAPTER_FORMAT_NAMES = ("youtube", "json", "vtt", "ffmetadata")


def register(subparsers: argparse._SubParsersAction) -> None:
    transcribe = subparsers.add_parser("transcribe", help="transcribe a video or audio file",
                                       description="Transcribe a media file with faster-whisper.")
    transcribe.add_argument("input", metavar="INPUT", help="video or audio file")
    _whisper_options(transcribe)
    transcribe.add_argument("--format", choices=TRANSCRIPT_FORMAT_NAMES, default="json")
    _output_options(transcribe)
    transcribe.set_defaults(func=run_transcribe)

    chapter = subparsers.add_parser("chapter", help="make YouTube chapters for a video",
                                    description="Transcribe a media file (or read --transcript) and "
                                                "write chapters that follow YouTube's rules.")
    chapter.add_argument("input", metavar="INPUT", nargs="?", help="video or audio file")
    chapter.add_argument("--transcript", metavar="FILE.json",
                         help="use this transcript (from `chaptan transcribe`) instead of transcribing")
    chapter.add_argument("--generator", choices=GENERATORS, default="auto",
                         help="auto: the LLM when one is configured, else local")
    chapter.add_argument("--max-chapters", type=_count, default=0, metavar="N", help="0: no limit (default)")
    chapter.add_argument("--min-chapter-seconds", type=_seconds, default=10.0, metavar="S",
                         help="shortest chapter (YouTube needs 10 s or more; default 10)")
    _whisper_options(chapter)
    chapter.add_argument("--format", choices=CHAPTER_FORMAT_NAMES, default="youtube")
    _output_options(chapter)
    chapter.set_defaults(func=run_chapter)

    embed = subparsers.add_parser("embed", help="write chapter markers into a copy of a video",
                                  description="Copy a video with chapter markers (streams are copied, "
                                              "not re-encoded).")
    embed.add_argument("input", metavar="INPUT", help="video or audio file")
    embed.add_argument("chapters", metavar="CHAPTERS.json",
                       help="chapters from `chaptan chapter --format json`")
    embed.add_argument("-o", "--output", required=True, metavar="OUT", help="the new file, e.g. out.mp4")
    embed.set_defaults(func=run_embed)


def _whisper_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", default="", metavar="NAME_OR_PATH",
                        help="whisper model name (e.g. large-v3) or CTranslate2 folder "
                             "(default: CHAPTAN_WHISPER_MODEL, models/whisper/*, bundled tiny.en)")
    parser.add_argument("--language", default="auto", metavar="auto|CODE",
                        help="spoken language, e.g. en; auto detects it (default)")


def _output_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-o", "--output", metavar="OUT", help="write here instead of stdout")
    parser.add_argument("--progress", action="store_true",
                        help="show progress on stderr even when it is not a terminal")


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError("must be more than 0")
    return value


class ProgressLine:
    """'transcribing  42%' on stderr: rewritten in place on a terminal, one line per whole percent
    otherwise (for logs and tests). Silent unless stderr is a terminal or --progress was given."""

    def __init__(self, forced: bool):
        self.tty = sys.stderr.isatty()
        self.enabled = forced or self.tty
        self._last: tuple[str, int] | None = None

    def __call__(self, fraction: float, stage: str) -> None:
        if not self.enabled:
            return
        state = (stage, int(fraction * 100))
        if state == self._last:
            return
        self._last = state
        line = f"{stage} {state[1]:3d}%"
        sys.stderr.write(f"\r{line:<30}" if self.tty else line + "\n")
        sys.stderr.flush()

    def note(self, message: str) -> None:
        if self.enabled:
            self.finish()
            print(message, file=sys.stderr)

    def finish(self) -> None:
        if self.enabled and self.tty and self._last is not None:
            sys.stderr.write("\n")
            self._last = None


def _check_output(output: str | None) -> None:
    """Fail before minutes of transcription, not after, when the result could not be saved."""
    if output and not Path(output).parent.is_dir():
        raise ChaptanError("cannot write {file}: folder {folder} does not exist", file=output,
                           folder=Path(output).parent)


def _emit(text: str, output: str | None) -> None:
    if not output:
        sys.stdout.write(text)
        return
    try:
        Path(output).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise ChaptanError("cannot write {file}: {reason}", file=output, reason=exc.strerror or exc) from None


def _transcriber(args: argparse.Namespace, settings, progress: ProgressLine):
    from ..speech.transcribe import WhisperTranscriber

    transcriber = WhisperTranscriber(args.model, settings=settings)
    progress.note(f"using {transcriber.device_description}")
    return transcriber


def run_transcribe(args: argparse.Namespace) -> int:
    from ..config import Settings
    from ..exports import render_text
    from ..media import probe

    _check_output(args.output)
    settings = Settings.from_env()
    progress = ProgressLine(args.progress)
    progress(0.0, "probing")
    info = probe(args.input)
    transcriber = _transcriber(args, settings, progress)
    transcript = transcriber.transcribe(Path(args.input), language=_language(args.language),
                                        progress=progress, duration=info.duration)
    progress.finish()
    _emit(render_text(args.format, transcript=transcript), args.output)
    return 0


def run_chapter(args: argparse.Namespace) -> int:
    from ..chapters import ChapterOptions, generate_chapters
    from ..config import Settings
    from ..exports import CHAPTER_KEYS, render_text
    from ..pipeline import process_media
    from ..transcript import Transcript

    _check_output(args.output)
    settings = Settings.from_env()
    options = ChapterOptions(max_chapters=args.max_chapters, min_chapter_seconds=args.min_chapter_seconds)
    progress = ProgressLine(args.progress)
    if args.transcript:
        transcript = Transcript.load(args.transcript, strict=True)
        if not transcript.segments:
            raise ChaptanError("{file} has no segments, so there is nothing to chapter", file=args.transcript)
        progress(0.0, "chaptering")
        result = generate_chapters(transcript, options, args.generator, settings)
        progress(1.0, "done")
    elif args.input:
        transcriber = _transcriber(args, settings, progress)
        transcript, result = process_media(args.input, settings=settings, language=args.language,
                                           generator=args.generator, options=options, progress=progress,
                                           transcriber=transcriber)
    else:
        raise ChaptanError("chapter needs INPUT (a media file) or --transcript FILE.json")
    progress.finish()
    if not transcript.segments:
        raise ChaptanError("the transcript has no speech, so there is nothing to chapter")
    for warning in result.warnings:
        print(f"chaptan: warning: {warning}", file=sys.stderr)
    export_key = {name: key for key, name in CHAPTER_KEYS.items()}[args.format]
    _emit(render_text(export_key, chapters=result), args.output)
    return 0


def run_embed(args: argparse.Namespace) -> int:
    from ..chapters.formats import load_chapters
    from ..media import embed_chapters, probe

    info = probe(args.input, need_audio=False)
    chapters = load_chapters(args.chapters, duration=info.duration)
    embed_chapters(args.input, chapters, args.output)
    print(f"wrote {args.output} with {len(chapters)} chapters", file=sys.stderr)
    return 0


def _language(value: str) -> str | None:
    return None if value in ("", "auto") else value
