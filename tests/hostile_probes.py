"""Probes of hostile inputs, each run in a subprocess (a heap overflow or a use-after-free would otherwise take
pytest down with it): tests/common/test_hostile_inputs.py and test_hostile_tensors.py.

A probe script starts with COLLATORS (the three collators as `chat`, `hf` and `boson`, each taking the backend
and the batch), defines its probes, then appends OUTCOMES, which gives `outcome(run)`: the batch as JSON-able
values, or the exception's class and message (what the tests compare between backends).
"""

import json
import os
import subprocess
import sys
import textwrap

COLLATORS = textwrap.dedent(
    """
    import dataclasses, json, sys
    import torch
    from fastcollate import ChatCollator, HiggsAudioSampleCollator, HiggsAudioV2Collator, ops, presets
    from fastcollate.synthetic import LLAMA3_IDS as IDS

    def chat(backend, rows):
        return ChatCollator(presets.completion_only([7]), 0, backend=backend, on_empty="keep")(rows)

    def hf(backend, features):
        return HiggsAudioV2Collator(IDS.pad, backend=backend, on_empty="keep")(features)

    def boson(backend, samples):
        kw = dict(audio_in_token_id=IDS.audio_in, audio_out_token_id=IDS.audio_out, pad_token_id=IDS.pad,
                  audio_stream_bos_id=IDS.stream_bos, audio_stream_eos_id=IDS.stream_eos)
        return HiggsAudioSampleCollator(None, **kw, encode_whisper_embed=False, backend=backend, on_empty="keep")(
            samples)
    """
)

OUTCOMES = textwrap.dedent(
    """
    def plain(value):
        \"\"\"Tensors as (dtype, shape, values); dicts, dataclasses and sequences item by item.\"\"\"
        if isinstance(value, torch.Tensor):
            value = torch._C.TensorBase.as_subclass(value, torch.Tensor)
            return [str(value.dtype), list(value.shape), value.tolist()]
        if dataclasses.is_dataclass(value):
            return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
        if isinstance(value, dict) or hasattr(value, "keys"):
            return {str(k): plain(value[k]) for k in value.keys()}
        if isinstance(value, (list, tuple)):
            return [plain(v) for v in value]
        return value if value is None or isinstance(value, (int, float, str, bool)) else repr(value)

    def outcome(run):
        try:
            return ["ok", plain(run())]
        except Exception as exc:  # the class and message are what is compared
            return ["error", type(exc).__name__, str(exc)]
    """
)


def run_probes(script, names, cwd):
    """{name: outcomes} of the probes that finished (the script prints one JSON line per probe), and the exit
    status and output of the process."""
    # Outside the checkout: `python -c` puts the working directory first on sys.path, and the source tree (no
    # compiled extension) would shadow the installed package.
    done = subprocess.run(
        [sys.executable, "-c", script, *names],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=cwd,
        env=dict(os.environ),
    )
    results = {}
    for line in done.stdout.splitlines():
        if line.startswith('{"name"'):
            result = json.loads(line)
            results[result.pop("name")] = result
    return results, f"exit {done.returncode}\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}"


def probe(script, name, all_probes, tmp_path):
    """A probe's outcomes from the run of all probes, or from a run of its own when it did not finish there (a
    crash of an earlier probe ends the process); a probe that does not finish alone fails with the output."""
    got = all_probes.get(name)
    if got is None:
        results, output = run_probes(script, [name], tmp_path)
        assert name in results, f"{name}: {output}"
        got = results[name]
    return got
