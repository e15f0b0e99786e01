"""The ops under torch.compile(fullgraph=True) (no graph break: every op is a torch.library custom op with a
Python fake implementation) match eager; meta tensors get every output's shape. One small compiled function
covers all the ops, so inductor compiles once (CI time)."""

import torch
from fastcollate.presets import llama3

import fastcollate


def pipeline(codes, packed, offsets, ids, mask, starts, out_pair, out_labels):
    delayed, generation_mask = fastcollate.apply_delay_pattern(codes, 1024, 1025, delays=[0, 2, 1, 3])
    reverted = fastcollate.revert_delay_pattern(delayed, delays=[0, 2, 1, 3], start_index=1)
    btk = fastcollate.apply_delay_pattern(
        codes.transpose(1, 2), 1024, 1025, layout="BTK", mode="preserve", out=out_pair
    )
    ragged = fastcollate.apply_delay_pattern_ragged(
        packed, offsets, 1024, 1025, stream_bos_eos=True, return_labels=True
    )
    back = fastcollate.revert_delay_pattern_ragged(ragged.codes, ragged.offsets, stream_bos_eos=True)
    labels = fastcollate.role_span_labels(ids, llama3(), attention_mask=mask, start_index=starts)
    fastcollate.role_span_labels(ids, llama3(), attention_mask=mask, out=out_labels)
    # Torch ops around them, so the graph is more than the custom ops.
    return (
        delayed + 1,
        generation_mask,
        reverted * 2,
        btk[0].sum(),
        ragged.codes,
        ragged.offsets,
        ragged.labels,
        back.codes,
        back.offsets,
        labels.clamp(min=0),
        out_labels.sum(),
    )


def inputs():
    g = torch.Generator().manual_seed(0)
    codes = torch.randint(0, 1024, (2, 4, 9), generator=g)
    packed = torch.randint(0, 1024, (4, 11), generator=g, dtype=torch.int64).to(torch.int32)
    offsets = torch.tensor([0, 3, 3, 11])
    ids = torch.tensor(
        [
            [128000, 128006, 78191, 128007, 271, 5, 6, 128009, 128001],
            [128001, 128001, 128000, 128006, 78191, 128007, 271, 8, 128009],
        ]
    )
    mask = (ids != 128001).long()
    starts = torch.tensor([0, 1])
    out_pair = (torch.empty((2, 9, 4), dtype=torch.int64), torch.empty((2, 9, 4), dtype=torch.int64))
    return codes, packed, offsets, ids, mask, starts, out_pair, torch.empty((2, 9), dtype=torch.int64)


def test_compiled_function_matches_eager_without_graph_breaks():
    torch._dynamo.reset()
    eager_inputs, compiled_inputs = inputs(), inputs()
    want = pipeline(*eager_inputs)
    got = torch.compile(pipeline, fullgraph=True)(*compiled_inputs)
    for g, w in zip(got, want):
        assert torch.equal(g, w)
    for g, w in zip(compiled_inputs[6] + (compiled_inputs[7],), eager_inputs[6] + (eager_inputs[7],)):
        assert torch.equal(g, w)  # out= tensors written inside the compiled graph


def test_meta_tensors_give_shapes():
    meta = [t.to("meta") if isinstance(t, torch.Tensor) else tuple(x.to("meta") for x in t) for t in inputs()]
    got = pipeline(*meta)
    want = pipeline(*inputs())
    for g, w in zip(got, want):
        assert g.device.type == "meta" and g.shape == w.shape and g.dtype == w.dtype
