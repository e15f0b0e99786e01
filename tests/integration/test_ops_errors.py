"""Bad arguments to the token-tensor ops: a ValueError naming the argument, the same from the public op and
its twin, never a crash; direct calls of the compiled functions are checked too; inputs are never written."""

import re

import pytest
import torch
from conftest import COMPILED
from fastcollate.presets import llama3

import fastcollate
from fastcollate.delay import delay_pattern_reference as twin
from fastcollate.rolespan import rolespan_labels_reference as labels_twin

CODES = torch.arange(2 * 3 * 4).reshape(2, 3, 4)
RAGGED = torch.arange(3 * 6).reshape(3, 6)
OFFSETS = torch.tensor([0, 2, 6])


APPLY_CASES = [
    ("not a tensor", dict(codes=[[1, 2]]), r"^codes: expected a torch.Tensor, got list$"),
    (
        "float",
        dict(codes=CODES.float()),
        r"^codes: expected dtype torch.int16, torch.int32 or torch.int64, got torch.float32$",
    ),
    (
        "uint8",
        dict(codes=CODES.to(torch.uint8)),
        r"^codes: expected dtype torch.int16, torch.int32 or torch.int64, got torch.uint8$",
    ),
    ("1-D", dict(codes=CODES.flatten()), r"^codes: expected a 2-D or 3-D tensor, got shape \(24,\)$"),
    ("4-D", dict(codes=CODES[None]), r"^codes: expected a 2-D or 3-D tensor, got shape \(1, 2, 3, 4\)$"),
    (
        "sparse",
        dict(codes=CODES.to_sparse()),
        r"^codes: expected a dense CPU or CUDA tensor, got torch.sparse_coo on cpu$",
    ),
    ("layout", dict(layout="BKTT"), r"^layout: expected one of \('BKT', 'BTK'\), got 'BKTT'$"),
    ("layout not str", dict(layout=None), r"^layout: expected one of \('BKT', 'BTK'\), got None$"),
    ("mode", dict(mode="pad"), r"^mode: expected one of \('extend', 'preserve'\), got 'pad'$"),
    ("bos str", dict(bos_token_id="1"), r"^bos_token_id: expected an int, got str$"),
    ("bos bool", dict(bos_token_id=True), r"^bos_token_id: expected an int, got bool$"),
    ("pad float", dict(pad_token_id=1.0), r"^pad_token_id: expected an int, got float$"),
    (
        "bos too big for int16",
        dict(codes=CODES.short(), bos_token_id=40000),
        r"^bos_token_id: 40000 does not fit torch.int16$",
    ),
    (
        "pad too small for int32",
        dict(codes=CODES.int(), pad_token_id=-(2**31) - 1),
        r"^pad_token_id: -2147483649 does not fit torch.int32$",
    ),
    ("delays short", dict(delays=[0, 1]), r"^delays: expected 3 entries \(one per codebook\), got 2$"),
    ("delays negative", dict(delays=[0, -1, 2]), r"^delays: entry 1 = -1 is negative$"),
    ("delays float", dict(delays=[0, 1.5, 2]), r"^delays: entry 1: expected an int, got float$"),
    ("delays bool", dict(delays=[0, True, 2]), r"^delays: entry 1: expected an int, got bool$"),
    ("delays int", dict(delays=3), r"^delays: expected a sequence of ints >= 0, got int$"),
    ("delays str", dict(delays="012"), r"^delays: expected a sequence of ints >= 0, got str$"),
    ("delays too big", dict(delays=[0, 2**64, 1]), r"^delays: entry 1 = 18446744073709551616 does not fit int64$"),
    (
        "BTK delays per codebook",
        dict(layout="BTK", delays=[0, 1, 2]),
        r"^delays: expected 4 entries \(one per codebook\), got 3$",
    ),
]


def apply_args(**override):
    args = dict(codes=CODES, bos_token_id=1024, pad_token_id=1025)
    args.update(override)
    return args


@pytest.mark.parametrize("fn", [fastcollate.apply_delay_pattern, twin.apply_delay_pattern], ids=["public", "twin"])
@pytest.mark.parametrize("name,override,message", APPLY_CASES, ids=[c[0] for c in APPLY_CASES])
def test_apply_errors(fn, name, override, message):
    args = apply_args(**override)
    with pytest.raises(ValueError, match=message):
        fn(args.pop("codes"), args.pop("bos_token_id"), args.pop("pad_token_id"), **args)


def out_pair(shape=(2, 3, 6), dtype=torch.int64):
    return torch.empty(shape, dtype=dtype), torch.empty(shape, dtype=dtype)


OUT_CASES = [
    (
        "not a pair",
        lambda: torch.empty(2, 3, 6),
        r"^out: expected a pair of tensors \(delayed, generation_mask\), got Tensor$",
    ),
    ("three", lambda: out_pair() + (torch.empty(1),), r"^out: expected a pair of tensors"),
    ("shape", lambda: out_pair((2, 3, 7)), r"^out\[0\]: expected shape \(2, 3, 6\), got \(2, 3, 7\)$"),
    (
        "dtype",
        lambda: (out_pair()[0], torch.empty((2, 3, 6), dtype=torch.int32)),
        r"^out\[1\]: expected dtype torch.int64, got torch.int32$",
    ),
    (
        "device",
        lambda: (torch.empty((2, 3, 6), dtype=torch.int64, device="meta"), out_pair()[1]),
        r"^out\[0\]: expected a tensor on cpu like the inputs, got meta$",
    ),
    (
        "expanded",
        lambda: (torch.zeros(6, dtype=torch.int64).expand(2, 3, 6), out_pair()[1]),
        r"^out\[0\]: has elements that share memory \(an expanded view\?\); it would be written twice$",
    ),
    (
        "same tensor twice",
        lambda: (lambda t: (t, t))(torch.empty((2, 3, 6), dtype=torch.int64)),
        r"^out\[1\]: overlaps out\[0\] in memory$",
    ),
]


@pytest.mark.parametrize("name,make,message", OUT_CASES, ids=[c[0] for c in OUT_CASES])
def test_apply_out_errors(name, make, message):
    with pytest.raises(ValueError, match=message):
        fastcollate.apply_delay_pattern(CODES, 1024, 1025, out=make())


def test_apply_out_overlapping_the_input():
    buf = torch.zeros((2, 3, 12), dtype=torch.int64)
    with pytest.raises(ValueError, match=r"^out\[0\]: overlaps codes in memory$"):
        fastcollate.apply_delay_pattern(
            buf[..., :4], 1024, 1025, out=(buf[..., 6:], torch.empty((2, 3, 6), dtype=torch.int64))
        )


def test_apply_out_writes_the_given_tensors():
    big = torch.full((2, 3, 10), 5, dtype=torch.int64)
    delayed, generation_mask = big[..., :6], torch.empty((2, 3, 6), dtype=torch.int64)  # a strided view is fine
    got = fastcollate.apply_delay_pattern(CODES, 1024, 1025, out=(delayed, generation_mask))
    want = twin.apply_delay_pattern(CODES, 1024, 1025)
    assert got[0] is delayed and got[1] is generation_mask
    assert torch.equal(delayed, want[0]) and torch.equal(generation_mask, want[1]) and (big[..., 6:] == 5).all()


REVERT_CASES = [
    ("negative start", dict(start_index=-1), r"^start_index: expected an int >= 0, got -1$"),
    ("bool start", dict(start_index=False), r"^start_index: expected an int, got bool$"),
    (
        "float delayed",
        dict(delayed=CODES.double()),
        r"^delayed: expected dtype torch.int16, torch.int32 or torch.int64, got torch.float64$",
    ),
    ("delays", dict(delays=[1]), r"^delays: expected 3 entries \(one per codebook\), got 1$"),
]


@pytest.mark.parametrize("fn", [fastcollate.revert_delay_pattern, twin.revert_delay_pattern], ids=["public", "twin"])
@pytest.mark.parametrize("name,override,message", REVERT_CASES, ids=[c[0] for c in REVERT_CASES])
def test_revert_errors(fn, name, override, message):
    args = dict(delayed=CODES)
    args.update(override)
    with pytest.raises(ValueError, match=message):
        fn(args.pop("delayed"), **args)


RAGGED_CASES = [
    ("3-D codes", dict(codes=CODES), r"^codes: expected a 2-D tensor, got shape \(2, 3, 4\)$"),
    ("offsets 2-D", dict(offsets=OFFSETS[None]), r"^offsets: expected a 1-D tensor, got shape \(1, 3\)$"),
    (
        "offsets float",
        dict(offsets=OFFSETS.float()),
        r"^offsets: expected dtype torch.int32 or torch.int64, got torch.float32$",
    ),
    ("offsets list of str", dict(offsets=[0, "6"]), r"^offsets: entry 1: expected an int, got str$"),
    ("offsets int", dict(offsets=6), r"^offsets: expected a 1-D int tensor or a sequence of ints, got int$"),
    ("offsets empty", dict(offsets=[]), r"^offsets: expected at least one entry \(S \+ 1 for S segments\), got none$"),
    ("offsets start", dict(offsets=[1, 6]), r"^offsets: entry 0 = 1, expected 0$"),
    ("offsets decrease", dict(offsets=[0, 4, 3, 6]), r"^offsets: decreases at entry 2 \(4 > 3\)$"),
    ("offsets end", dict(offsets=[0, 5]), r"^offsets: last entry = 5, expected 6 \(the number of columns\)$"),
    ("offsets past the end", dict(offsets=[0, 7]), r"^offsets: last entry = 7, expected 6 \(the number of columns\)$"),
    (
        "no_train without labels",
        dict(no_train=[True, False]),
        r"^no_train: is only read with labels \(return_labels=True\)$",
    ),
    (
        "no_train length",
        dict(return_labels=True, no_train=[True]),
        r"^no_train: expected 2 entries \(one per segment\), got 1$",
    ),
    (
        "no_train dtype",
        dict(return_labels=True, no_train=torch.tensor([1, 0])),
        r"^no_train: expected dtype torch.bool, got torch.int64$",
    ),
    ("delays", dict(delays=[0, -3, 1]), r"^delays: entry 1 = -3 is negative$"),
    ("stream_bos_eos int", dict(stream_bos_eos=1), r"^stream_bos_eos: expected a bool, got int$"),
    ("return_labels None", dict(return_labels=None), r"^return_labels: expected a bool, got NoneType$"),
    (
        "no_train entry",
        dict(return_labels=True, no_train=[True, "no"]),
        r"^no_train: entry 1: expected a bool, got str$",
    ),
    ("no_train int", dict(return_labels=True, no_train=3), r"^no_train: expected a torch.Tensor, got int$"),
]


@pytest.mark.parametrize(
    "fn", [fastcollate.apply_delay_pattern_ragged, twin.apply_delay_pattern_ragged], ids=["public", "twin"]
)
@pytest.mark.parametrize("name,override,message", RAGGED_CASES, ids=[c[0] for c in RAGGED_CASES])
def test_apply_ragged_errors(fn, name, override, message):
    args = dict(codes=RAGGED, offsets=OFFSETS, bos_token_id=1024, pad_token_id=1025)
    args.update(override)
    with pytest.raises(ValueError, match=message):
        fn(args.pop("codes"), args.pop("offsets"), args.pop("bos_token_id"), args.pop("pad_token_id"), **args)


REVERT_RAGGED_CASES = [
    (
        "segment too narrow",
        dict(delayed=torch.arange(30).reshape(3, 10), offsets=[0, 1, 10], stream_bos_eos=True),
        r"^offsets: segment 0 has 1 columns, fewer than the 4 its delays and stream BOS/EOS add$",
    ),
    (
        "too few columns in all",
        dict(offsets=[0, 1, 2, 3, 6]),
        r"^offsets: 4 segments need at least 2 columns each, but delayed has 6 in all$",
    ),
    ("offsets end", dict(offsets=[0, 4]), r"^offsets: last entry = 4, expected 6 \(the number of columns\)$"),
    ("stream_bos_eos str", dict(stream_bos_eos="yes"), r"^stream_bos_eos: expected a bool, got str$"),
]


@pytest.mark.parametrize(
    "fn", [fastcollate.revert_delay_pattern_ragged, twin.revert_delay_pattern_ragged], ids=["public", "twin"]
)
@pytest.mark.parametrize("name,override,message", REVERT_RAGGED_CASES, ids=[c[0] for c in REVERT_RAGGED_CASES])
def test_revert_ragged_errors(fn, name, override, message):
    args = dict(delayed=RAGGED, offsets=OFFSETS)
    args.update(override)
    with pytest.raises(ValueError, match=message):
        fn(args.pop("delayed"), args.pop("offsets"), **args)


IDS = torch.tensor([[1, 2, 3, 0], [4, 5, 0, 0]])
MASK = torch.tensor([[1, 1, 1, 0], [1, 1, 0, 0]])
LABEL_CASES = [
    ("1-D ids", dict(input_ids=IDS[0]), r"^input_ids: expected a 2-D tensor, got shape \(4,\)$"),
    (
        "int16 ids",
        dict(input_ids=IDS.short()),
        r"^input_ids: expected dtype torch.int32 or torch.int64, got torch.int16$",
    ),
    ("spec", dict(spec="llama3"), r"^spec: expected a RoleSpanSpec, got str$"),
    (
        "mask shape",
        dict(attention_mask=MASK[:, :3]),
        r"^attention_mask: expected the shape of input_ids \(2, 4\), got \(2, 3\)$",
    ),
    (
        "mask float",
        dict(attention_mask=MASK.float()),
        r"^attention_mask: expected dtype torch.bool, torch.int32 or torch.int64, got torch.float32$",
    ),
    (
        "mask value",
        dict(attention_mask=torch.tensor([[1, 1, 1, 0], [1, 2, 0, 0]])),
        r"^attention_mask: row 1 has 2 at column 1, expected 0 or 1$",
    ),
    (
        "mask two runs",
        dict(attention_mask=torch.tensor([[1, 1, 1, 0], [1, 0, 1, 0]])),
        r"^attention_mask: row 1 is not one run of 1s at the start \(right padding\) or the end \(left padding\)$",
    ),
    (
        "mask in the middle",
        dict(attention_mask=torch.tensor([[0, 1, 1, 0], [1, 1, 0, 0]])),
        r"^attention_mask: row 0 is not one run of 1s",
    ),
    ("start_index length", dict(start_index=[1]), r"^start_index: expected 2 entries \(one per row\), got 1$"),
    (
        "start_index scalar",
        dict(start_index=1),
        r"^start_index: expected a 1-D int tensor or a list \(one entry per row\), got int$",
    ),
    ("start_index entry", dict(start_index=[1, "2"]), r"^start_index: entry 1: expected an int, got str$"),
    (
        "start_index float tensor",
        dict(start_index=torch.tensor([1.0, 2.0])),
        r"^start_index: expected dtype torch.int32 or torch.int64, got torch.float32$",
    ),
]


@pytest.mark.parametrize("fn", [fastcollate.role_span_labels, labels_twin.role_span_labels], ids=["public", "twin"])
@pytest.mark.parametrize("name,override,message", LABEL_CASES, ids=[c[0] for c in LABEL_CASES])
def test_role_span_labels_errors(fn, name, override, message):
    args = dict(input_ids=IDS, spec=llama3(), attention_mask=MASK)
    args.update(override)
    with pytest.raises(ValueError, match=message):
        fn(args.pop("input_ids"), args.pop("spec"), **args)


@pytest.mark.parametrize(
    "out,message",
    [
        (torch.empty((2, 4), dtype=torch.int32), r"^out: expected dtype torch.int64, got torch.int32$"),
        (torch.empty((4, 2), dtype=torch.int64).T, r"^out: expected rows of unit stride \(out.stride\(1\) == 1\)$"),
        (IDS, r"^out: overlaps input_ids in memory$"),
    ],
)
def test_role_span_labels_out_errors(out, message):
    with pytest.raises(ValueError, match=message):
        fastcollate.role_span_labels(IDS, llama3(), attention_mask=MASK, out=out)


@pytest.mark.skipif(not COMPILED, reason="compiled extension not built")
@pytest.mark.parametrize(
    "call,message",
    [
        (
            lambda c: c.delay.apply(
                CODES,
                1,
                2,
                [0, 1, 2],
                False,
                True,
                torch.empty(2, 3, 5, dtype=torch.int64),
                torch.empty(2, 3, 6, dtype=torch.int64),
            ),
            r"^out\[0\]: expected shape \(2, 3, 6\), got \(2, 3, 5\)$",
        ),
        (
            lambda c: c.delay.apply(CODES.short(), 1, 2**20, [0, 1, 2], False, True, None, None),
            r"^pad_token_id: 1048576 does not fit torch.int16$",
        ),
        (
            lambda c: c.delay.apply(CODES, 1, 2, [0, -1, 2], False, True, None, None),
            r"^delays: entry 1 = -1 is negative$",
        ),
        (
            lambda c: c.delay.apply(CODES.float(), 1, 2, [0, 1, 2], False, True, None, None),
            r"^codes: expected dtype torch.int16, torch.int32 or torch.int64, got torch.float32$",
        ),
        (
            lambda c: c.delay.revert(CODES, [0, 1, 2], False, 0, torch.empty(2, 3, 2, dtype=torch.int32)),
            r"^out: expected dtype torch.int64, got torch.int32$",
        ),
        (
            lambda c: c.delay.apply_ragged(
                RAGGED, torch.tensor([0, 7]), 1, 2, [0, 1, 2], False, False, None, None, None, None
            ),
            r"^offsets: last entry = 7, expected 6 \(the number of columns\)$",
        ),
        (
            lambda c: c.delay.apply_ragged(
                RAGGED,
                OFFSETS,
                1,
                2,
                [0, 1, 2],
                False,
                False,
                torch.empty(3, 10, dtype=torch.int64),
                torch.empty(3, dtype=torch.int64),
                None,
                torch.tensor([True, False]),
            ),
            r"^no_train: is only read with labels \(return_labels=True\)$",
        ),
        (
            lambda c: c.delay.revert_ragged(RAGGED, torch.tensor([0, 1, 6]), [0, 1, 2], False, True, None, None),
            r"^offsets: segment 0 has 1 columns, fewer than the 4 its delays and stream BOS/EOS add$",
        ),
        (
            lambda c: c.rolespan.labels(
                IDS,
                MASK,
                None,
                fastcollate.rolespan.native.native_spec(llama3()),
                torch.empty((2, 3), dtype=torch.int64),
            ),
            r"^out: expected shape \(2, 4\), got \(2, 3\)$",
        ),
        (
            lambda c: c.rolespan.labels(
                IDS,
                MASK,
                torch.tensor([1]),
                fastcollate.rolespan.native.native_spec(llama3()),
                torch.empty((2, 4), dtype=torch.int64),
            ),
            r"^start_index: expected 2 entries \(one per row\), got 1$",
        ),
    ],
)
def test_compiled_functions_check_their_arguments(call, message):
    """The compiled functions never trust the Python layer: a direct call with bad arguments is a ValueError."""
    import fastcollate.rolespan.native  # noqa: F401
    from fastcollate import _core

    with pytest.raises(ValueError, match=message):
        call(_core)


def test_inputs_are_never_written():
    codes = torch.randint(0, 1024, (2, 8, 9))
    before = codes.clone()
    delayed, _ = fastcollate.apply_delay_pattern(codes, 1024, 1025)
    fastcollate.revert_delay_pattern(delayed)
    ragged = fastcollate.apply_delay_pattern_ragged(
        codes[0], [0, 4, 9], 1024, 1025, stream_bos_eos=True, return_labels=True, no_train=[True, False]
    )
    fastcollate.revert_delay_pattern_ragged(ragged.codes, ragged.offsets, stream_bos_eos=True)
    ids, mask = IDS.clone(), MASK.clone()
    fastcollate.role_span_labels(ids, llama3(), attention_mask=mask, start_index=[0, 1])
    assert torch.equal(codes, before) and torch.equal(ids, IDS) and torch.equal(mask, MASK)


@pytest.mark.parametrize("apply", [fastcollate.apply_delay_pattern, twin.apply_delay_pattern], ids=["public", "twin"])
@pytest.mark.parametrize("layout", ["BKT", "BTK"])
@pytest.mark.parametrize("code", [1024, -5])
def test_codes_outside_the_codebook_size(apply, layout, code):
    """With codebook_size, a code outside [0, codebook_size) is named by batch row, frame and codebook (the first
    in frame order); without it the op delays any values (labels hold -100)."""
    codes = torch.randint(0, 1024, (2, 8, 9))  # (B, K, T)
    codes[1, 6, 2] = code
    codes[1, 0, 3] = code
    given = codes.transpose(1, 2).contiguous() if layout == "BTK" else codes
    want = f"codes: holds the code {code} at frame 2, codebook 6 (batch row 1); codes lie in [0, 1024) (codebook_size=1024)."
    with pytest.raises(ValueError, match=f"^{re.escape(want)}$"):
        apply(given, 1024, 1025, layout=layout, codebook_size=1024)
    with pytest.raises(ValueError, match=f"^{re.escape(want.replace(' (batch row 1)', ''))}$"):
        apply(given[1], 1024, 1025, layout=layout, codebook_size=1024)
    apply(given, 1024, 1025, layout=layout)  # not checked without a codebook_size
    apply(given[0], 1024, 1025, layout=layout, codebook_size=1024)
    with pytest.raises(ValueError, match=r"^codebook_size: expected None or an int >= 1, got 0$"):
        apply(given, 1024, 1025, layout=layout, codebook_size=0)


@pytest.mark.parametrize(
    "apply", [fastcollate.apply_delay_pattern_ragged, twin.apply_delay_pattern_ragged], ids=["public", "twin"]
)
def test_ragged_codes_outside_the_codebook_size(apply):
    codes = torch.randint(0, 1024, (8, 9))
    codes[3, 5] = 1025
    want = "codes: holds the code 1025 at frame 5, codebook 3; codes lie in [0, 1024) (codebook_size=1024)."
    with pytest.raises(ValueError, match=f"^{re.escape(want)}$"):
        apply(codes, [0, 4, 9], 1024, 1025, stream_bos_eos=True, codebook_size=1024)
    with pytest.raises(ValueError, match=f"^{re.escape(want)}$"):
        apply(codes.T.contiguous(), [0, 4, 9], 1024, 1025, layout="BTK", stream_bos_eos=True, codebook_size=1024)
    assert apply(codes, [0, 4, 9], 1024, 1025, stream_bos_eos=True).codes.shape == (8, 9 + 2 * (7 + 2))
