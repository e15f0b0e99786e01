"""Without the compiled extension every op still works: the registered ops run the pure-Python twins (the
role-span spec rebuilt from the fields the op receives), with the same results."""

import pytest
import torch

import fastcollate
from fastcollate import presets
from fastcollate.runtime import backend


@pytest.fixture
def without_extension(monkeypatch):
    monkeypatch.setattr(backend, "COMPILED", False)


SPECS = [
    presets.llama3(),
    presets.llama3(turns="last", learn_header=True, always_masked=(5,)),
    presets.chatml(),
    presets.completion_only((128006, 78191, 128007, 271), (128006, 882, 128007, 271)),
    presets.completion_only((78191,), turns="last"),
]


def outputs():
    codes = torch.randint(0, 1024, (3, 6, 4), generator=torch.Generator().manual_seed(1)).to(torch.int32)
    packed, offsets = codes[0].T, torch.tensor([0, 2, 2, 6])
    delayed = fastcollate.apply_delay_pattern(codes, 1024, 1025, delays=[1, 0, 3, 3], layout="BTK")
    ragged = fastcollate.apply_delay_pattern_ragged(
        packed, offsets, 1024, 1025, stream_bos_eos=True, return_labels=True, no_train=[False, True, False]
    )
    ids = torch.tensor(
        [
            [128000, 128006, 78191, 128007, 271, 5, 6, 128009, 128006, 882, 128007, 271, 8, 128009],
            [128001] * 4 + [128000, 128006, 882, 128007, 271, 9, 128009, 128006, 78191, 128007],
        ]
    )
    mask = (ids != 128001).long()
    labels = [fastcollate.role_span_labels(ids, spec, attention_mask=mask) for spec in SPECS]
    return (
        *delayed,
        fastcollate.revert_delay_pattern(delayed[0], delays=[1, 0, 3, 3], layout="BTK", start_index=1),
        *ragged,
        *fastcollate.revert_delay_pattern_ragged(ragged.codes, ragged.offsets, stream_bos_eos=True),
        *labels,
    )


def test_fallback_equals_compiled(request):
    compiled = outputs()
    request.getfixturevalue("without_extension")
    fallback = outputs()
    assert len(compiled) == len(fallback)
    for c, f in zip(compiled, fallback):
        assert c.dtype == f.dtype and torch.equal(c, f)
