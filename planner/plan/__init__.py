"""The plan floor: one plan, from inputs to the answer.

inputs (parse and check) -> cluster (hardware, run inputs) -> options (candidate sizes, each
with its best layout and run) -> assemble (the figures, vectorised) -> limits / sizing (the
choice, CP-SAT under limits) -> result (``Plan``); ``estimate`` ties them together.
"""
