"""Why HiggsAudioSampleCollator has no packed mode: boson-multimodal's HiggsAudioModel cannot keep samples packed in
one row apart. Its forward takes no position_ids, and the merge of text and audio embeddings derives the
positions from the 2-D attention mask (a cumulative sum along the row) and builds the causal mask from that 2-D
mask: samples in one row would see each other and continue each other's positions. If a release changes this,
these checks fail and packing can be reconsidered (docs/guide/higgs-boson.md, "Packing")."""

import inspect

import pytest

modeling = pytest.importorskip("boson_multimodal.model.higgs_audio.modeling_higgs_audio")
utils = pytest.importorskip("boson_multimodal.model.higgs_audio.utils")


def test_forward_takes_no_position_ids():
    parameters = inspect.signature(modeling.HiggsAudioModel.forward).parameters
    assert "position_ids" not in parameters and "attention_mask" in parameters


def test_positions_come_from_the_2d_mask():
    source = inspect.getsource(utils.merge_input_ids_with_audio_features)
    assert "position_ids = (final_attention_mask.cumsum(-1) - 1)" in source
