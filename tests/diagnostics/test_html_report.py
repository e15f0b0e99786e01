"""The HTML report, read back with html.parser: self-contained, a summary chart, hover titles on the tokens, a
picture of every clip (both Higgs formats) whose pixels say what each cell trains; and `inspect --html`."""

import base64
import dataclasses
import sys
from html.parser import HTMLParser
from unittest import mock

import pytest
import torch
from offline_tokenizer import build_tokenizer, encode
from png_read import count_color, read_png
from report_cases import boson_batch, v2_batch, v2_features

from fastcollate import HiggsAudioV2Collator
from fastcollate.__main__ import main
from fastcollate.diagnostics.clip_picture import (
    CELLS,
    EOS_LEARNED,
    EOS_NOT_LEARNED,
    LEARNED,
    NO_TRAIN,
    ODD,
    STREAM_BOS,
    clip_png,
    clips_of,
)
from fastcollate.diagnostics.higgs_hf_audio import sample_audio
from fastcollate.diagnostics.html_report import html_report


class Report(HTMLParser):
    """Every start tag with its attributes, and the text of the page."""

    def __init__(self, text: str):
        super().__init__()
        self.tags, self.text = [], []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)

    def find(self, tag, cls=None):
        return [a for t, a in self.tags if t == tag and (cls is None or cls in a.get("class", "").split())]


def assert_self_contained(report: Report):
    for tag, attrs in report.tags:
        for name in ("src", "href", "xlink:href", "srcset", "data", "action"):
            value = attrs.get(name)
            assert value is None or value.startswith(("data:", "#")), f"<{tag} {name}={value[:60]!r}> is external"
        assert tag not in ("script", "link", "iframe", "object", "embed"), tag
    assert "url(" not in "".join(report.text)


def clip_images(report: Report):
    return [read_png(base64.b64decode(a["src"].split(",", 1)[1])) for a in report.find("img", "clip-picture")]


def test_v2_processor_report_shows_the_missing_eos_and_the_trained_reference():
    # start_index=3 (as the correct mode's features carry): turn 2, the reference voice, is context.
    report = Report(html_report(v2_batch(correct=False), start_index=[3, 3]))
    assert_self_contained(report)
    chart = report.find("svg")
    assert [a.get("id") for a in chart] == ["summary-chart"]
    bars = [a for a in report.find("rect") if a.get("class") in ("learned", "masked", "padding")]
    assert {a["class"] for a in bars} == {"learned", "masked", "padding"}  # sample 0 is padded (shorter clips)
    tokens = report.find("span", "tok")
    assert tokens and all(a.get("title") for a in tokens)
    assert any(a["title"].startswith("id 78191 · label 78191 (learned)") for a in tokens)
    assert any(a["title"].startswith("id 128016 x") and "(audio)" in a["title"] for a in tokens)
    images = clip_images(report)
    assert len(images) == 4  # 2 samples x (reference voice, target speech)
    for image in images:  # every clip: learned codes, stream BOS, and an EOS that is never learned
        assert count_color(image, CELLS[LEARNED][1]) and count_color(image, CELLS[STREAM_BOS][1])
        assert count_color(image, CELLS[EOS_NOT_LEARNED][1]) and not count_color(image, CELLS[EOS_LEARNED][1])
    text = "".join(report.text)
    assert text.count("never learns its stream EOS") == 4
    assert text.count("its turn is not one the spec learns (a voice reference?)") == 2
    assert "sample 0, in turn 2 (assistant), clip 0" in text and "sample 1, in turn 4 (assistant), clip 1" in text


def test_v2_correct_report_learns_the_target_and_its_eos_only():
    report = Report(html_report(v2_batch(correct=True), start_index=[3, 3]))
    assert_self_contained(report)
    reference, target = clip_images(report)[:2]
    assert count_color(reference, CELLS[NO_TRAIN][1]) and not count_color(reference, CELLS[LEARNED][1])
    assert not count_color(reference, CELLS[EOS_NOT_LEARNED][1])  # a no-train clip is grey, not a warning
    assert count_color(target, CELLS[LEARNED][1]) and count_color(target, CELLS[EOS_LEARNED][1])
    assert "!!" not in "".join(report.text)


def test_packed_v2_report_names_each_clip_by_its_sample():
    features = v2_features(correct=True)
    batch = HiggsAudioV2Collator(pad_token_id=128001, label_mode="correct", packed=True)(features)
    report = Report(html_report(batch, start_index=[3, 3]))
    assert_self_contained(report)
    assert len(clip_images(report)) == 4
    captions = [a["title"].split(":")[0] for a in report.find("img", "clip-picture")]
    assert captions == [
        "sample 0, in turn 2 (assistant), clip 0",
        "sample 0, in turn 4 (assistant), clip 1",
        "sample 1, in turn 2 (assistant), clip 0",
        "sample 1, in turn 4 (assistant), clip 1",
    ]
    assert "padding" not in {a.get("class") for a in report.find("rect")}  # a packed row has none


def test_boson_report_has_a_picture_per_audio_out_clip(tmp_path):
    batch = boson_batch()
    report = Report(html_report(batch))
    assert_self_contained(report)
    images = clip_images(report)
    assert len(images) == batch.audio_out_ids_start.numel() == 2
    for image in images:  # upstream's labels learn the codes and the stream EOS
        assert count_color(image, CELLS[LEARNED][1]) and count_color(image, CELLS[EOS_LEARNED][1])
    text = "".join(report.text)
    assert "sample 0, in turn 2 (assistant), clip 0" in text and "sample 1, in turn 2 (assistant), clip 0" in text


def test_inspect_writes_the_report_and_the_token_view(tmp_path, capsys):
    folder = build_tokenizer(tmp_path / "tok")
    chat = (
        "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi there<|eot_id|>"
        "<|start_header_id|>assistant<|end_header_id|>\n\nHello world!<|eot_id|>"
    )
    ids = encode(folder, chat)
    path = tmp_path / "batch.pt"
    torch.save({"input_ids": torch.tensor([ids]), "labels": torch.tensor([[-100] * 12 + ids[12:]])}, path)
    out = tmp_path / "report.html"
    with mock.patch.object(sys, "argv", ["fastcollate/__main__.py"]):
        spec = ["--response-template", ",".join(map(str, ids[8:12]))]
        rc = main(["inspect", str(path), *spec, "--tokenizer", str(folder), "--html", str(out)])
    printed = capsys.readouterr().out
    assert rc == 0, printed
    assert (
        "  outside turns    <|begin_of_text|><|start_header_id|>user<|end_header_id|>\\n\\nHi there<|eot_id|>"
        in printed
    )
    assert "  turn 0 response  <|start_header_id|>assistant<|end_header_id|>\\n\\n[Hello world!<|eot_id|>]" in printed
    assert "[Hello world!<|eot_id|>]" in printed and f"report: {out}" in printed
    report = Report(out.read_text())
    assert_self_contained(report)
    assert report.find("svg") and any(a["title"].startswith("id ") for a in report.find("span", "tok"))


@pytest.mark.parametrize("layout", ["transformers", "boson-multimodal"])
def test_inspect_higgs_batch_report_has_its_clips(tmp_path, capsys, layout):
    """A saved batch of either format (boson-multimodal's as its fields' dict) gets a picture per clip."""
    path, out = tmp_path / "batch.pt", tmp_path / "report.html"
    if layout == "transformers":
        batch, clips = v2_batch(correct=False), 4
    else:
        batch = {k: v for k, v in dataclasses.asdict(boson_batch()).items() if v is not None}
        clips = 2
    torch.save(batch, path)
    with mock.patch.object(sys, "argv", ["fastcollate/__main__.py"]):
        rc = main(["inspect", str(path), "--html", str(out)])
    assert f"report: {out}" in capsys.readouterr().out
    assert rc == 1  # the given labels differ from the llama3 spec's (the processor's; <|AUDIO_OUT|> masked)
    report = Report(out.read_text())
    assert_self_contained(report)
    assert len(clip_images(report)) == clips


@pytest.mark.parametrize(
    "args, message",
    [
        (["--tokenizer", "missing"], "--tokenizer: tokenizer: missing has no tokenizer.json"),
        (["--html", "no/such/folder/r.html"], "--html: no/such/folder/r.html: its folder does not exist"),
    ],
)
def test_inspect_bad_view_arguments_are_bad_input(tmp_path, capsys, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.jsonl").write_text('{"input_ids": [1, 2, 3]}\n')
    with mock.patch.object(sys, "argv", ["fastcollate/__main__.py"]):
        rc = main(["inspect", "a.jsonl", "--allow-empty", *args])
    assert rc == 2
    assert message in capsys.readouterr().err


def test_inspect_streamed_jsonl_shows_the_chosen_sample(tmp_path, capsys):
    """A .jsonl streams: the views get the samples inspect read (here only --sample 1, numbered as in the
    file), labelled by the spec where the file has no labels."""
    folder = build_tokenizer(tmp_path / "tok")
    chat = "<|begin_of_text|><|start_header_id|>assistant<|end_header_id|>\n\nHi there<|eot_id|>"
    path, out = tmp_path / "chats.jsonl", tmp_path / "report.html"
    path.write_text(f'{{"input_ids": {encode(folder, "Hello world!")}}}\n{{"input_ids": {encode(folder, chat)}}}\n')
    template = ",".join(map(str, encode(folder, "<|start_header_id|>assistant<|end_header_id|>\n\n")))
    with mock.patch.object(sys, "argv", ["fastcollate/__main__.py"]):
        rc = main(
            ["inspect", str(path), "--sample", "1", "--response-template", template]
            + ["--tokenizer", str(folder), "--html", str(out)]
        )
    printed = capsys.readouterr().out
    assert rc == 0, printed
    view = printed[printed.index("=== tokens") :]
    assert "sample 1: 8 tokens, 3 learned, 5 masked" in view and "sample 0" not in view
    assert "  turn 0 response  <|start_header_id|>assistant<|end_header_id|>\\n\\n[Hi there<|eot_id|>]" in view
    report = Report(out.read_text())
    assert len([a for a in report.find("rect") if a.get("class") == "learned"]) == 1
    assert "<title>sample 1: 3 learned</title>" in out.read_text()


# ---------------------------------------------------------------------------------------------- clip pictures


def test_learned_padding_is_drawn_purple_and_warned():
    batch = v2_batch(correct=False)  # sample 0's clips are shorter: its row ends in padding frames
    mask = batch["audio_input_ids_mask"][0].bool()
    batch["audio_labels"][0][~mask] = 7
    learned_padding = int((~mask).sum()) * batch["audio_labels"].shape[2]
    last = [c for c in clips_of(batch) if c.sample == 0][-1]
    assert last.padding == int((~mask).sum()) > 0
    assert int((last.cells[:, last.ids.shape[1] :] == ODD).sum()) == learned_padding
    report = Report(html_report(batch))
    image = clip_images(report)[1]  # sample 0's last clip
    cell_pixels = (image.shape[1] // last.cells.shape[1]) * 10
    assert count_color(image, CELLS[ODD][1]) == learned_padding * cell_pixels  # every padding cell
    text = "".join(report.text)
    assert text.count(f"learns {learned_padding} padding cells (purple)") == 1
    assert f"{learned_padding} learned BOS/fill/padding cells" in text
    # The same batch with its padding masked: no purple, no warning.
    clean = Report(html_report(v2_batch(correct=False)))
    assert not any(count_color(i, CELLS[ODD][1]) for i in clip_images(clean))
    assert "padding cells" not in "".join(clean.text)


def _target_eos(batch):
    """Sample 0's target clip (its last): its stream EOS cells with the fills after them, and the EOS cells."""
    ids = batch["audio_input_ids"][0]
    frames = int(batch["audio_input_ids_mask"][0].sum())
    start = int(torch.nonzero(ids[:frames, 0] == 1024).flatten()[-1])
    eos = torch.zeros_like(ids, dtype=torch.bool)
    eos[start:frames] = ids[start:frames] == 1025
    return eos, eos & (torch.cumsum(eos.int(), 0) == 1)


@pytest.mark.parametrize(
    "cut",
    [
        "none",
        "eos cut from ids and labels",  # the clip has no EOS cells at all (a clip whose end was cut)
        "eos labelled with a code",  # EOS cells whose label is not the stream EOS
        "eos masked in codebook 3",
        "eos labelled with a code in codebook 7",
    ],
)
def test_clip_eos_warning_agrees_with_inspects_count(cut):
    batch = v2_batch(correct=True)
    ids, labels = batch["audio_input_ids"][0], batch["audio_labels"][0]
    with_fills, eos = _target_eos(batch)
    assert int(eos.sum()) == 8
    if cut == "eos cut from ids and labels":
        ids[with_fills] = labels[with_fills] = 5
    elif cut == "eos labelled with a code":
        labels[eos] = 5
    elif cut == "eos masked in codebook 3":
        labels[:, 3][eos[:, 3]] = -100
    elif cut == "eos labelled with a code in codebook 7":
        labels[:, 7][eos[:, 7]] = 5
    counted = [a.clips_without_eos for a in sample_audio(batch)]  # inspect's text verdict
    assert counted == ([0, 0] if cut == "none" else [1, 0])
    clips = clips_of(batch)
    assert [sum(c.eos_missing for c in clips if c.sample == b) for b in range(2)] == counted
    report = Report(html_report(batch, start_index=[3, 3]))
    assert "".join(report.text).count("never learns its stream EOS") == sum(counted)
    learned = {"none": 8, "eos masked in codebook 3": 7, "eos labelled with a code in codebook 7": 7}.get(cut, 0)
    target = report.find("img", "clip-picture")[1]["title"]
    assert f"stream EOS learned in {learned} of 8 codebooks" in target
    # The picture agrees: as many dark green EOS cells as codebooks that learn it.
    image, frames = clip_images(report)[1], clips[1].cells.shape[1]
    assert count_color(image, CELLS[EOS_LEARNED][1]) == learned * (image.shape[1] // frames) * 10


def test_an_empty_clip_has_a_caption_and_no_picture(tmp_path):
    """boson-multimodal's audio_out_ids_start [0, 5] over 5 frames: the second <|AUDIO_OUT|>'s segment is
    empty; its caption says so, and every picture of the report is a valid, non-empty PNG."""
    ids = torch.tensor([[128000, 128006, 78191, 128007, 271, 128016, 128016, 128009]])
    labels = torch.tensor([[-100] * 5 + [128016, 128016, 128009]])
    batch = {
        "input_ids": ids,
        "label_ids": labels,
        "audio_out_ids": torch.zeros(8, 5, dtype=torch.long),
        "label_audio_ids": torch.zeros(8, 5, dtype=torch.long),
        "audio_out_ids_start": torch.tensor([0, 5]),
    }
    empty = clips_of(batch)[1]
    assert empty.ids.shape == (8, 0)
    with pytest.raises(ValueError, match="no frames"):
        clip_png(empty)
    report = Report(html_report(batch))
    assert len(report.find("div", "clip")) == 2
    images = clip_images(report)
    assert len(images) == 1 and images[0].shape[0] > 0 and images[0].shape[1] > 0
    text = "".join(report.text)
    assert "clip 1: 8 codebooks x 0 frames: no frames" in text
    assert "!! no frames: its segment of the audio is empty" in text


# ---------------------------------------------------------------------------------------------- inspect --html


def _inspect(*argv):
    with mock.patch.object(sys, "argv", ["fastcollate/__main__.py"]):
        return main(["inspect", *map(str, argv)])


def test_inspect_sample_of_a_saved_batch_shows_that_sample_and_its_clips(tmp_path, capsys):
    path, out = tmp_path / "batch.pt", tmp_path / "report.html"
    torch.save(dict(v2_batch(correct=True), start_index=torch.tensor([3, 3])), path)
    assert _inspect(path, "--sample", "1", "--html", out) == 0, capsys.readouterr().out
    report = Report(out.read_text())
    assert [a["id"] for a in report.find("div", "sample")] == ["sample-1"]
    captions = [a["title"].split(":")[0] for a in report.find("img", "clip-picture")]
    assert captions == ["sample 1, in turn 2 (assistant), clip 0", "sample 1, in turn 4 (assistant), clip 1"]
    text = "".join(report.text)
    assert "1 sample(s)" in text and "start_index=3" in text  # the file's start_index, kept
    assert [a.get("class") for a in report.find("rect") if a.get("class")] == ["learned", "masked"]


def test_python_report_samples_picks_samples_and_their_clips():
    report = Report(html_report(v2_batch(correct=True), start_index=[3, 3], samples=[0]))
    assert [a["id"] for a in report.find("div", "sample")] == ["sample-0"]
    assert [a["title"].split(",")[0] for a in report.find("img", "clip-picture")] == ["sample 0", "sample 0"]
    with pytest.raises(ValueError, match="samples: 2 is out of range"):
        html_report(v2_batch(correct=True), samples=[2])


def test_inspect_packed_batch_shows_its_samples_and_clips(tmp_path, capsys):
    # Without start_index: inspect reads the packed row as one sample, its labels those of the spec.
    features = v2_features(correct=False)
    batch = HiggsAudioV2Collator(pad_token_id=128001, label_mode="correct", packed=True)(features)
    path, out = tmp_path / "packed.pt", tmp_path / "report.html"
    torch.save(dict(batch), path)
    assert _inspect(path, "--html", out) == 0, capsys.readouterr().out
    report = Report(out.read_text())
    python = Report(html_report(batch))  # the batch as Python's html_report shows it
    assert [a["id"] for a in report.find("div", "sample")] == ["sample-0", "sample-1"]
    assert len(clip_images(report)) == 4
    assert [a["title"] for a in report.find("img", "clip-picture")] == [
        a["title"] for a in python.find("img", "clip-picture")
    ]
    assert "format: higgs_v2; packed" in "".join(report.text)


def _chats(path, n, tokens=8):
    """n llama3 assistant turns of `tokens` tokens each (no labels: the spec's are compared)."""
    sample = [128000, 128006, 78191, 128007, 271] + [5] * (tokens - 6) + [128009]
    path.write_text("".join(f'{{"input_ids": {sample}}}\n' for _ in range(n)))


def test_inspect_views_keep_whole_samples_up_to_view_max_tokens(tmp_path, capsys):
    path, out = tmp_path / "big.jsonl", tmp_path / "report.html"
    _chats(path, 30)
    rc = _inspect(path, "--html", out, "--view-max-tokens", 45)
    printed = capsys.readouterr().out
    assert rc == 0, printed
    note = (
        "the views show samples 0 to 4 (40 tokens; --view-max-tokens 45); 25 later sample(s) left out "
        "(inspected all the same); --sample N shows one"
    )
    assert f"!! {note}" in printed
    assert "=== summary: 30 samples inspected ===" in printed and "=== sample 29 ===" in printed
    report = Report(out.read_text())
    assert [a["id"] for a in report.find("div", "sample")] == [f"sample-{i}" for i in range(5)]
    assert note in "".join(report.text)


def test_inspect_views_keep_only_what_they_show(tmp_path):
    """inspect keeps the samples of the views as it reads them: past the limit, none more (a streamed file
    stays streamed)."""
    from fastcollate.diagnostics.inspect_files import Sample
    from fastcollate.diagnostics.inspect_views import DEFAULT_VIEW_MAX_TOKENS, Viewed

    kept = Viewed(20)
    for i in range(10):
        kept.keep(i, Sample(list(range(8)), None, None))
    assert sorted(kept) == [0, 1] and kept.tokens == 16 and kept.left_out == 8
    small = Viewed(5)
    small.keep(0, Sample(list(range(8)), None, None))
    small.keep(1, Sample([1], None, None))  # a small sample after a left-out one stays out: a prefix is shown
    assert not small and small.left_out == 2
    assert DEFAULT_VIEW_MAX_TOKENS == 100_000


def test_inspect_sample_is_shown_whatever_its_size(tmp_path, capsys):
    path, out = tmp_path / "big.jsonl", tmp_path / "report.html"
    _chats(path, 3, tokens=200)
    rc = _inspect(path, "--sample", "2", "--html", out, "--view-max-tokens", 10)
    printed = capsys.readouterr().out
    assert rc == 0, printed
    assert "left out" not in printed
    assert [a["id"] for a in Report(out.read_text()).find("div", "sample")] == ["sample-2"]


def test_inspect_views_that_show_no_sample_say_so(tmp_path, capsys):
    path, out = tmp_path / "big.jsonl", tmp_path / "report.html"
    _chats(path, 2, tokens=50)
    rc = _inspect(path, "--html", out, "--view-max-tokens", 10)
    printed = capsys.readouterr().out
    assert rc == 0, printed
    assert "!! the views show no sample (0 tokens; --view-max-tokens 10); 2 later sample(s) left out" in printed
    report = Report(out.read_text())
    assert not report.find("div", "sample") and "No sample shown." in "".join(report.text)
