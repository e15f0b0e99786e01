"""The label of a token that is not learned: CrossEntropyLoss's ignore_index. csrc/common/labels.h is its twin."""

IGNORE = -100
