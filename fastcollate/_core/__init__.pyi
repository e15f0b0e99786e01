# Type stubs of the compiled extension (csrc/python/module.cpp): one submodule per capability, each bound by
# csrc/python/bind_<capability>.cpp and typed in its own <capability>.pyi. The extension reads tensors through
# their Python attributes and never links libtorch, so every tensor it returns was made by a torch.empty call
# from Python (or a DLPack capsule over one host block): ordinary tensors. tests/runtime/test_typing.py checks that
# these names and parameters are the module's.
from . import delay as delay
from . import higgs_boson as higgs_boson
from . import higgs_hf as higgs_hf
from . import packing as packing
from . import rolespan as rolespan
from . import runtime as runtime

__version__: str
