"""Tensor subclasses whose Python-level metadata lies (shape, stride, data_ptr, dim, dtype, numel, contiguity,
storage, conversions): the compiled readers must read what is stored, as the twin does, and never trust these.
Used by the hostile fuzzer (tests/fuzz/test_fuzz_hostile.py) and the subprocess probes of
tests/common/test_hostile_tensors.py, which import it from the tests folder."""

import numpy as np
import torch


class WideShape(torch.Tensor):
    @property
    def shape(self):
        return torch.Size([65536] * max(self.dim(), 1))


class ListShape(torch.Tensor):
    @property
    def shape(self):
        return [8]


class BadDataPtr(torch.Tensor):
    def data_ptr(self):
        return 16


class BadStride(torch.Tensor):
    def stride(self, dim=None):
        return (1 << 20,) * self.dim() if dim is None else 1 << 20


class BadDim(torch.Tensor):
    def dim(self):
        return 1

    @property
    def ndim(self):
        return 1


class BadDtype(torch.Tensor):
    @property
    def dtype(self):
        return torch.int64


class BadNumel(torch.Tensor):
    def numel(self):
        return 0

    def __len__(self):
        return 0


class BadContiguous(torch.Tensor):
    def is_contiguous(self, memory_format=torch.contiguous_format):
        return True

    def storage_offset(self):
        return 0


class BadStorage(torch.Tensor):
    def untyped_storage(self):
        return torch.UntypedStorage(0)


class BadConversions(torch.Tensor):
    def tolist(self):
        return []

    def numpy(self, *, force=False):
        return np.zeros(0, dtype=np.int64)

    def __iter__(self):
        return iter([])


class AlsoWide(WideShape):
    pass


LIARS = [
    WideShape,
    ListShape,
    BadDataPtr,
    BadStride,
    BadDim,
    BadDtype,
    BadNumel,
    BadContiguous,
    BadStorage,
    BadConversions,
    AlsoWide,
]
