"""Every fastcollate CUDA kernel once, on small inputs, for compute-sanitizer (tests/runtime/test_cuda_device.py and
benchmarks/gpu_check.sh run it under memcheck and racecheck). Prints "sanitizer case ok" when done."""

import torch

import fastcollate
from fastcollate import _core, presets
from fastcollate.synthetic import higgs_collator_kwargs, synthetic_text_batch, synthetic_tts_batch


def main():
    device = torch.device("cuda", 0)
    g = torch.Generator().manual_seed(0)
    codes = torch.randint(0, 1024, (3, 8, 40), generator=g).to(device)
    for layout, x in (("BKT", codes), ("BTK", codes.transpose(1, 2))):
        delayed, _ = fastcollate.apply_delay_pattern(x, 1024, 1025, layout=layout)
        fastcollate.revert_delay_pattern(delayed, layout=layout, start_index=1)
    packed = torch.randint(0, 1024, (8, 50), generator=g).to(device)
    offsets = torch.tensor([0, 10, 10, 50], device=device)
    ragged = fastcollate.apply_delay_pattern_ragged(
        packed,
        offsets,
        1024,
        1025,
        stream_bos_eos=True,
        return_labels=True,
        no_train=torch.tensor([False, True, False], device=device),
    )
    fastcollate.revert_delay_pattern_ragged(ragged.codes, ragged.offsets, stream_bos_eos=True)
    spec = presets.llama3()
    rows = [s.input_ids for s in synthetic_text_batch(4, 600, seed=1)]
    long_rows = [rows[0], synthetic_text_batch(1, 4200, seed=3)[0].input_ids]  # one past the staging area
    before = _core.rolespan.kernel()
    for kernel in ("scan", "compact"):  # both role-span row kernels (docs/guide/cuda.md)
        _core.rolespan.set_kernel(kernel)
        for packed_rows in (False, True):
            batch = fastcollate.ChatCollator(
                spec, 128001, backend="cuda", packed=packed_rows, pad_left=not packed_rows, on_empty="keep"
            )(rows)
        padded = fastcollate.ChatCollator(spec, 128001, backend="cuda", pad_left=True, on_empty="keep")(rows)
        fastcollate.role_span_labels(padded["input_ids"], spec, attention_mask=padded["attention_mask"])
        fastcollate.role_span_labels(padded["input_ids"], spec)
        fastcollate.ChatCollator(spec, 128001, backend="cuda", on_empty="keep")(long_rows)
    _core.rolespan.set_kernel(before)
    fastcollate.HiggsAudioSampleCollator(**higgs_collator_kwargs(), backend="cuda")(synthetic_tts_batch(4, seed=2))
    torch.cuda.synchronize()
    assert batch["input_ids"].device == device
    print("sanitizer case ok")


if __name__ == "__main__":
    main()
