"""Token-tensor ops: the compiled op vs boson-multimodal's function, the torch-ops twin and a copy of the
output bytes (torch.empty + copy_), one group per shape; role_span_labels in tokens/s.

Groups: the delay pattern (default arguments: both outputs) on (16, 8, 750) and (64, 12, 1500), and on
(16, 8, 750) in the (B, T, K) layout; the ragged form on 32 audio segments of 8 codebooks (2-30 s at 25
frames/s, stream BOS/EOS and labels, what the Higgs collator needs), against boson's collator loop over
segments; role_span_labels on a padded 32 x 2048 batch (llama3 preset, left padding).
Run: pytest benchmarks --benchmark-enable (README.md "Benchmarks").
"""

import pytest
import torch

import fastcollate
from fastcollate import ChatCollator, presets
from fastcollate.delay import delay_pattern_reference as twin
from fastcollate.rolespan import rolespan_labels_reference as labels_twin
from fastcollate.synthetic import LLAMA3_IDS, synthetic_text_batch

BOS, EOS, IGNORE = 1024, 1025, -100
SHAPES = {
    "delay-16x8x750": ((16, 8, 750), "BKT"),
    "delay-64x12x1500": ((64, 12, 1500), "BKT"),
    "delay-16x750x8-BTK": ((16, 750, 8), "BTK"),
}


def upstream_utils():
    return pytest.importorskip("boson_multimodal.model.higgs_audio.utils")


def copy_floor(tensors):
    """The output bytes allocated once and copied there from finished tensors: no op returning fresh tensors
    of these bytes beats it."""
    flat = [t.reshape(-1).view(torch.uint8) for t in tensors]
    nbytes = sum(t.numel() for t in flat)

    def copy():
        buffer = torch.empty(nbytes, dtype=torch.uint8)
        offset = 0
        for t in flat:
            buffer[offset : offset + t.numel()].copy_(t)
            offset += t.numel()
        return buffer

    return copy, nbytes, torch.cat(flat)


def assert_all_equal(got, want):
    for g, w in zip(got, want, strict=True):
        assert torch.equal(g, w)


def measure(record, case, name, fn, **kwargs):
    """Benchmark fn in the case's group; its outputs must be the case's expected ones."""
    assert_all_equal(record(case["group"], name, fn, **kwargs), case["want"])


def measure_copy_floor(record, case, **kwargs):
    copy, nbytes, want = copy_floor(case["want"])
    assert torch.equal(record(case["group"], "copy_floor", copy, out_bytes=nbytes, **kwargs), want)


def output_bytes(case):
    return sum(t.numel() * t.element_size() for t in case["want"])


@pytest.fixture(scope="module", params=list(SHAPES))
def padded(request):
    shape, layout = SHAPES[request.param]
    codes = torch.randint(0, 1024, shape, generator=torch.Generator().manual_seed(0))
    want = fastcollate.apply_delay_pattern(codes, BOS, EOS, layout=layout)
    return dict(group=request.param, codes=codes, layout=layout, want=want)


def test_delay_upstream(record, padded):
    """boson-multimodal's build_delay_pattern_mask; it takes (B, K, T) only, so a (B, T, K) batch is
    transposed in and out (what a transformers Higgs or Dia user does with it)."""
    build = upstream_utils().build_delay_pattern_mask
    codes = padded["codes"]
    if padded["layout"] == "BKT":
        fn = lambda: build(codes, BOS, EOS)  # noqa: E731
    else:
        fn = lambda: tuple(t.transpose(1, 2).contiguous() for t in build(codes.transpose(1, 2), BOS, EOS))  # noqa: E731
    measure(record, padded, "upstream", fn)


def test_delay_twin(record, padded):
    measure(
        record,
        padded,
        "reference",
        lambda: twin.apply_delay_pattern(padded["codes"], BOS, EOS, layout=padded["layout"]),
    )


def test_delay_native(record, padded):
    measure(
        record,
        padded,
        "native",
        lambda: fastcollate.apply_delay_pattern(padded["codes"], BOS, EOS, layout=padded["layout"]),
        out_bytes=output_bytes(padded),
    )


def test_delay_copy_floor(record, padded):
    measure_copy_floor(record, padded)


@pytest.fixture(scope="module")
def ragged():
    """32 audio-out segments of 8 codebooks, 2-30 s each at 25 frames/s, a few flagged no-train."""
    g = torch.Generator().manual_seed(32)
    lengths = torch.randint(50, 751, (32,), generator=g).tolist()
    codes = torch.randint(0, 1024, (8, sum(lengths)), generator=g)
    offsets = torch.tensor([0] + lengths).cumsum(0)
    no_train = torch.rand(32, generator=g) < 0.1
    want = fastcollate.apply_delay_pattern_ragged(
        codes, offsets, BOS, EOS, stream_bos_eos=True, return_labels=True, no_train=no_train
    )
    return dict(
        group="delay-ragged-32x8",
        codes=codes,
        offsets=offsets,
        no_train=no_train,
        lengths=lengths,
        want=(want.codes, want.offsets, want.labels),
    )


def test_ragged_upstream_loop(record, ragged):
    """What boson-multimodal's collator does per audio-out segment: wrap in stream BOS/EOS, build the delay
    pattern for ids and for labels (build_delay_pattern_mask each), concatenate."""
    build = upstream_utils().build_delay_pattern_mask

    def loop():
        ids, labels = [], []
        for s, (a, b) in enumerate(zip(ragged["offsets"][:-1].tolist(), ragged["offsets"][1:].tolist())):
            seg = ragged["codes"][:, a:b]
            k = seg.shape[0]
            wrapped = torch.cat([torch.full((k, 1), BOS), seg, torch.full((k, 1), EOS)], dim=1)
            lab = torch.cat([torch.full((k, 1), IGNORE), seg, torch.full((k, 1), EOS)], dim=1)
            ids.append(build(wrapped.unsqueeze(0), BOS, EOS)[0].squeeze(0))
            lab = build(lab.unsqueeze(0), IGNORE, IGNORE)[0].squeeze(0)
            if ragged["no_train"][s]:
                lab[:] = IGNORE
            labels.append(lab)
        starts = torch.tensor([0] + [t.shape[1] for t in ids]).cumsum(0)
        return torch.cat(ids, dim=1), starts, torch.cat(labels, dim=1)

    measure(record, ragged, "upstream", loop)


def ragged_kwargs(ragged):
    return dict(stream_bos_eos=True, return_labels=True, no_train=ragged["no_train"])


def test_ragged_twin(record, ragged):
    measure(
        record,
        ragged,
        "reference",
        lambda: twin.apply_delay_pattern_ragged(ragged["codes"], ragged["offsets"], BOS, EOS, **ragged_kwargs(ragged)),
    )


def test_ragged_native(record, ragged):
    measure(
        record,
        ragged,
        "native",
        lambda: fastcollate.apply_delay_pattern_ragged(
            ragged["codes"], ragged["offsets"], BOS, EOS, **ragged_kwargs(ragged)
        ),
        out_bytes=output_bytes(ragged),
    )


def test_ragged_copy_floor(record, ragged):
    measure_copy_floor(record, ragged)


@pytest.fixture(scope="module")
def padded_chats():
    """32 Llama-3 chats of 1,300-2,048 tokens, left-padded to 2,048 by ChatCollator (its labels: the answer)."""
    spec = presets.llama3()
    samples = synthetic_text_batch(32, 2048, seed=7, exchanges=3)
    rows = [s.input_ids[: 2048 - 23 * i] for i, s in enumerate(samples)]
    batch = ChatCollator(spec, LLAMA3_IDS.pad, pad_left=True, on_empty="keep")(rows)
    return dict(
        group="role-span-labels-32x2048",
        spec=spec,
        ids=batch["input_ids"],
        mask=batch["attention_mask"],
        want=(batch["labels"],),
        tokens=batch["input_ids"].numel(),
    )


def test_labels_twin(record, padded_chats):
    c = padded_chats
    labels = lambda: (labels_twin.role_span_labels(c["ids"], c["spec"], attention_mask=c["mask"]),)  # noqa: E731
    measure(record, c, "reference", labels, setup=lambda: ((), {}), rounds=3, items=c["tokens"])


def test_labels_native(record, padded_chats):
    c = padded_chats
    labels = lambda: (fastcollate.role_span_labels(c["ids"], c["spec"], attention_mask=c["mask"]),)  # noqa: E731
    measure(record, c, "native", labels, items=c["tokens"])


def test_labels_copy_floor(record, padded_chats):
    measure_copy_floor(record, padded_chats, items=padded_chats["tokens"])
