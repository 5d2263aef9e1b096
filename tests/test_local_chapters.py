"""The local chapter generator: topic changes found, CJK handled, YouTube's rules kept, and on
real videos better than a chapter every 90 s."""

from __future__ import annotations

import importlib.util
import re
import statistics
import sys
from pathlib import Path
from types import ModuleType

import pytest

from chaptan.chapters import ChapterOptions, generate_chapters, validate
from chaptan.chapters.local import LocalChapterer, title_for_span
from chaptan.chapters.rules import enforce
from chaptan.chapters.titles import INTRODUCTION
from chaptan.transcript import Segment, Transcript, speech

EVAL_DIR = Path(__file__).parents[2] / "shared" / "eval"

PASTA = [
    "Let me tell you how I cook pasta at home.",
    "First I bring a big pot of water to a rolling boil.",
    "Then I add a generous handful of salt to the boiling water.",
    "The salt seasons the pasta from the inside while it cooks.",
    "I drop in the spaghetti and stir it so the noodles don't stick.",
    "Fresh pasta needs only two or three minutes in the pot.",
    "Dried spaghetti takes about nine or ten minutes.",
    "Meanwhile I warm olive oil and garlic in a frying pan.",
    "I save a cup of the starchy pasta water before draining.",
    "The noodles go straight into the pan with the garlic and oil.",
    "A splash of pasta water turns it into a silky sauce.",
    "I finish the plate with grated parmesan cheese and black pepper.",
]
SPACE = [
    "The solar system formed about four and a half billion years ago.",
    "At its centre sits the Sun, an ordinary yellow star.",
    "Eight planets orbit the Sun on nearly circular paths.",
    "Mercury, Venus, Earth and Mars are small rocky planets.",
    "Beyond the asteroid belt lie the giant planets Jupiter and Saturn.",
    "Jupiter is so massive that its gravity shapes the orbits of comets.",
    "Saturn is famous for its bright rings of ice and dust.",
    "Uranus and Neptune are cold ice giants far from the Sun.",
    "Past Neptune the Kuiper belt holds Pluto and other dwarf planets.",
    "Light from the Sun needs eight minutes to reach the Earth.",
    "Spacecraft like Voyager have now left the planets far behind.",
    "Astronomers keep finding new moons around the outer planets.",
]
FOOTBALL = [
    "Football is the most popular sport on the planet.",
    "Two teams of eleven players try to score goals.",
    "Only the goalkeeper may touch the ball with the hands.",
    "A match lasts ninety minutes, split into two halves.",
    "The referee shows a yellow card for a bad foul.",
    "A red card sends the player off the pitch for the rest of the game.",
    "The offside rule stops strikers from waiting next to the goal.",
    "The World Cup is held every four years.",
    "Brazil has won the World Cup five times.",
    "Fans sing in the stadium for their club all through the match.",
    "A penalty kick is taken from twelve yards in front of the goal.",
    "Great strikers like Messi score with either foot.",
]

JA = [
    ["今日はカレーライスの作り方を紹介します。", "まず玉ねぎと人参とじゃがいもを切ります。",
     "鍋に油をひいて、牛肉を炒めます。", "玉ねぎがしんなりしたら水を加えます。",
     "野菜が柔らかくなるまで二十分ほど煮込みます。", "火を止めてカレーのルーを溶かします。",
     "もう一度弱火で煮込むと、とろみが出ます。", "ご飯にカレーをかけて出来上がりです。"],
    ["次は太陽系の惑星について話しましょう。", "太陽系には八つの惑星があります。",
     "地球は太陽から三番目の惑星です。", "木星は太陽系で一番大きな惑星です。",
     "土星には氷でできた美しい環があります。", "火星は赤い色をした岩石の惑星です。",
     "海王星は太陽から最も遠い惑星です。", "惑星の周りには多くの衛星が回っています。"],
    ["最後にサッカーのルールを説明します。", "サッカーは十一人ずつの二つのチームで戦います。",
     "ゴールキーパーだけが手でボールに触れます。", "試合は前半と後半の九十分です。",
     "反則をすると審判がイエローカードを出します。", "ワールドカップは四年に一度開かれます。",
     "ボールをゴールに入れると得点になります。", "サポーターはスタジアムで応援歌を歌います。"],
]
ZH = [
    ["今天我来介绍怎么做番茄炒蛋。", "先把番茄洗干净，切成小块。", "把鸡蛋打进碗里，加一点盐搅匀。",
     "锅里放油，先把鸡蛋炒熟盛出来。", "再把番茄放进锅里炒出汁。", "然后把鸡蛋倒回锅里和番茄一起翻炒。",
     "最后加一点糖和葱花就可以出锅了。", "番茄炒蛋配米饭特别好吃。"],
    ["接下来我们聊聊太阳系的行星。", "太阳系一共有八颗行星。", "地球是离太阳第三近的行星。",
     "木星是太阳系里最大的行星。", "土星有一圈由冰组成的美丽光环。", "火星是一颗红色的岩石行星。",
     "海王星是离太阳最远的行星。", "很多行星周围都有卫星在转动。"],
    ["最后说一说足球比赛的规则。", "足球比赛由两支各有十一名球员的球队进行。", "只有守门员可以用手碰球。",
     "一场比赛分上下半场，共九十分钟。", "犯规的球员会被裁判出示黄牌。", "世界杯足球赛每四年举办一次。",
     "把球踢进对方球门就得一分。", "球迷们在球场里为球队加油。"],
]


def make_transcript(topics: list[list[str]], language: str,
                    seconds_per_line: float) -> tuple[Transcript, list[float]]:
    """Lines spoken back to back; returns the transcript and the true topic starts."""
    segments, changes, t = [], [], 0.0
    for lines in topics:
        changes.append(t)
        for line in lines:
            segments.append(Segment(t, t + seconds_per_line - 0.2, line))
            t += seconds_per_line
    return Transcript(language, t, tuple(segments)), changes


def assert_valid(result, transcript: Transcript) -> None:
    assert validate(result.chapters, transcript.duration) == []
    assert all(1 <= len(c.title) <= 70 for c in result.chapters)


@pytest.mark.parametrize("language,lines,seconds", [("en", 12, 3.5), ("", 12, 3.5), ("en", 8, 5.5)])
def test_three_english_topics_found_within_five_seconds(language: str, lines: int, seconds: float) -> None:
    # The first football line mentions "the planet": the start must still land on it, not after it.
    transcript, changes = make_transcript([PASTA[:lines], SPACE[:lines], FOOTBALL[:lines]], language, seconds)
    result = generate_chapters(transcript, generator="local")
    assert_valid(result, transcript)
    starts = [c.start for c in result.chapters]
    assert all(any(abs(s - c) <= 5 for s in starts) for c in changes), starts
    if lines == 12:
        assert len(starts) == 3, starts
    else:
        # Eight lines a topic, each a fact of its own words: a fourth start between two facts of
        # one topic is as strong as a topic change there, and may be taken.
        assert len(starts) <= 4, starts
    titles = " ".join(c.title.lower() for c in result.chapters)
    assert "pasta" in titles or "spaghetti" in titles
    assert "planet" in titles or "sun" in titles


@pytest.mark.parametrize("language,topics", [("ja", JA), ("zh", ZH), ("", ZH)])
def test_cjk_transcripts_get_chapters_titled_from_their_text(language: str, topics: list[list[str]]) -> None:
    transcript, changes = make_transcript(topics, language, 5.0)
    result = generate_chapters(transcript, generator="local")
    assert_valid(result, transcript)
    assert len(result.chapters) >= 3
    spoken = "".join(s.text for s in transcript.segments)
    # The greeting chapter is called the introduction, with its subject after the colon.
    assert result.chapters[0].title.startswith(INTRODUCTION[language or "zh"] + ": ")
    for chapter in result.chapters:
        # A title names one or two of the chapter's phrases ("トマトと卵", "番茄 鸡蛋"), each as
        # it was said.
        phrases = re.split("と| ", chapter.title.split(": ")[-1])
        assert all(phrase and phrase in spoken for phrase in phrases), chapter.title
    assert all(any(abs(c.start - t) <= 5 for c in result.chapters) for t in changes)


# A Japanese talk as the bundled Whisper writes it: 富士山 mostly by its sound (藤さん), once as
# written, at the end of its topic.
JA_HEARD = [
    ["最初は味噌汁の作り方です。", "鍋に水と昆布を入れて、出汁を取ります。",
     "豆腐とわかめを入れて、火を止めてから味噌を溶かします。",
     "味噌汁は沸騰させないのがこつです。", "味噌汁にはねぎを入れてもおいしいです。"],
    ["二つ目は藤さんの話です。", "藤さんは日本で一番高い山で、高さは三千七百七十六メートルです。",
     "夏になると、たくさんの人が藤さんに登ります。", "山頂から見る日の出はとても美しいです。",
     "富士山は昔から絵や歌にもよく描かれてきました。"],
    ["三つ目は新幹線です。", "新幹線は時速三百キロ近くで走る高速鉄道です。",
     "東京から大阪まで、新幹線なら二時間半ほどで着きます。",
     "新幹線はとても時間に正確なことで有名です。", "新幹線の駅弁も人気です。"],
]


def test_a_japanese_word_heard_two_ways_stays_in_its_topic() -> None:
    # By its characters the last 富士山 line shares nothing with the 藤さん before it, and looked
    # like the start of the next topic (36 s, not 40 s); by their sound they are one word.
    transcript, changes = make_transcript(JA_HEARD, "ja", 4.0)
    result = generate_chapters(transcript, generator="local")
    assert [c.start for c in result.chapters] == changes


def test_title_for_span_is_short_and_from_the_span() -> None:
    transcript, _ = make_transcript([PASTA, SPACE, FOOTBALL], "en", 3.5)
    title = title_for_span(transcript, 42.0, 84.0)
    assert 0 < len(title) <= 70
    assert "pasta" not in title.lower()
    assert title_for_span(transcript, 500.0, 600.0) == ""


def test_max_chapters_and_short_inputs_keep_the_rules() -> None:
    transcript, _ = make_transcript([PASTA * 4, SPACE * 4, FOOTBALL * 4], "en", 3.5)
    result = generate_chapters(transcript, ChapterOptions(max_chapters=4), generator="local")
    assert_valid(result, transcript)
    assert len(result.chapters) <= 4
    tiny = Transcript("en", 12.0, (Segment(0.0, 5.0, "Hello there."), Segment(5.0, 12.0, "Goodbye.")))
    assert LocalChapterer().propose(tiny, ChapterOptions())[0].start == 0.0
    assert LocalChapterer().propose(Transcript("en", 0.0, ()), ChapterOptions())[0].start == 0.0


def load_scorer() -> ModuleType:
    spec = importlib.util.spec_from_file_location("chapter_score", EVAL_DIR / "score.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.skipif(not (EVAL_DIR / "chapters-dev").is_dir(), reason="no eval data next to the repo")
def test_beats_a_chapter_every_90_seconds_on_real_videos() -> None:
    # The shipped cue weights were fitted on these videos too: score 14 of them with weights
    # refitted on the other 40, as for videos the generator has never seen. The seven curve
    # weights stay shipped: fitted without this channel they move by 0.03 at most. Fewer say little:
    # over six, one start found or missed moves the mean by 0.03, as much as the margin.
    sys.path.insert(0, str(Path(__file__).parents[1] / "benchmarks"))
    import fit_weights

    scorer = load_scorer()
    cases = fit_weights.load_cases(EVAL_DIR / "chapters-dev")
    held_out = cases[::4]
    training = [c for c in cases if c not in held_out]
    chapterer = LocalChapterer(fit_weights.fit_cues(training))
    ours, uniform = [], []
    for case in held_out:
        transcript = case.transcript
        options = ChapterOptions()
        chapters = enforce(chapterer.propose(transcript, options), transcript, options, title_for_span)
        assert validate(chapters, transcript.duration) == []
        ours.append(scorer.score_one(case.truth, {"chapters": [c.to_dict() for c in chapters]})["F1@5s"])
        every = [{"start": 90.0 * i, "title": "x"} for i in range(int(transcript.duration // 90) + 1)]
        uniform.append(scorer.score_one(case.truth, {"chapters": every})["F1@5s"])
    assert statistics.mean(ours) > statistics.mean(uniform)


def test_a_title_names_the_topic_not_a_contraction() -> None:
    cocktail = [
        "You’ve probably had a hurricane cocktail on a beach somewhere.",
        "You’ve got to start with light rum and dark rum, two ounces each.",
        "They’ve always used passion fruit syrup in New Orleans, and you’ve got to as well.",
        "Squeeze in the lime juice, you’ve got to use fresh limes.",
        "Shake the rum with ice and pour it into a hurricane glass.",
        "You’ve now got the classic hurricane, so garnish it with an orange slice.",
    ]
    transcript, changes = make_transcript([PASTA, cocktail, SPACE], "en", 3.5)
    title = title_for_span(transcript, changes[1], changes[2])
    assert "’" not in title and "'" not in title, title
    assert any(word in title.lower() for word in ("hurricane", "rum")), title


def test_speaker_labels_are_not_what_is_said() -> None:
    # A transcript from a service that tells speakers apart: every line starts with who speaks.
    lines = [line for topic in (PASTA, SPACE, FOOTBALL) for line in topic]
    labelled = [f"{'Ana Costa' if i % 3 else 'Ben Okafor'}: {line}" for i, line in enumerate(lines)]
    plain, changes = make_transcript([PASTA, SPACE, FOOTBALL], "en", 3.5)
    transcript = Transcript("en", plain.duration, tuple(
        Segment(s.start, s.end, text) for s, text in zip(plain.segments, labelled)))
    assert [s.text for s in speech(transcript)] == lines
    result = generate_chapters(transcript, ChapterOptions(), generator="local")
    assert_valid(result, transcript)
    titles = " ".join(c.title for c in result.chapters).lower()
    assert "ana" not in titles and "okafor" not in titles, titles
    assert all(any(abs(c.start - t) <= 5 for c in result.chapters) for t in changes)
    said = ["今天聊汽车。", "好的。", "先说电池。", "电池很重要。"]
    speakers = ["罗永浩", "李想", "罗永浩", "李想"]
    chinese = Transcript("zh", 12.0, tuple(Segment(3.0 * i, 3.0 * i + 2.0, f"{who}：{line}")
                                          for i, (who, line) in enumerate(zip(speakers, said))))
    assert [s.text for s in speech(chinese)] == said
    # A colon said now and then is speech, not a label.
    noted = Transcript("en", 8.0, (Segment(0.0, 4.0, "Note: the oven is hot."),
                                   Segment(4.0, 8.0, "Stir it.")))
    assert speech(noted) == noted.segments
