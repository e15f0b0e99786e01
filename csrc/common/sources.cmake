# csrc/common: helpers every capability shares (framework-free).
list(APPEND FASTCOLLATE_NATIVE_SOURCES
  csrc/common/fast_div.cpp
)
