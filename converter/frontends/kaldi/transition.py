"""A `.mdl` file's TransitionModel (`src/hmm/transition-model.cc`, `hmm-topology.cc`), read only
to be skipped: the HMM is the decoder's business, the IR is the neural network after it.

Binary form, read structurally:

    <TransitionModel> <Topology> phones (int vector) phone2idx (int vector)
      entries: count (-1 first for a non-HMM topology), per entry its states, per state the
      forward pdf class (and the self-loop one), its transitions (destination, probability)
    </Topology> <Triples>|<Tuples> count, 3 or 4 ints each </Triples>|</Tuples>
    <LogProbs> vector </LogProbs> </TransitionModel>

The text form is whitespace-separated words throughout, so it is skipped up to its closing tag.
"""

from __future__ import annotations

from converter.frontends.kaldi.tokens import TokenReader

MAX_ITEMS = 10_000_000  # a sanity bound: counts beyond it are garbage, not a model


def skip_transition_model(reader: TokenReader) -> None:
    reader.expect("<TransitionModel>")
    if not reader.binary:
        while reader.read_token() != "</TransitionModel>":
            pass
        return
    reader.expect("<Topology>")
    reader.read_int_vector()  # phones
    reader.read_int_vector()  # phone2idx
    entries = reader.read_int()
    is_hmm = entries != -1
    if not is_hmm:
        entries = reader.read_int()
    _check_count(reader, entries, "topology entries")
    for _ in range(entries):
        states = reader.read_int()
        _check_count(reader, states, "HMM states")
        for _ in range(states):
            reader.read_int()  # forward pdf class
            if not is_hmm:
                reader.read_int()  # self-loop pdf class
            transitions = reader.read_int()
            _check_count(reader, transitions, "transitions")
            for _ in range(transitions):
                reader.read_int()
                reader.read_float()
    reader.expect("</Topology>")
    start = reader.pos
    kind = reader.read_token()
    if kind not in ("<Triples>", "<Tuples>"):
        raise reader.fail(f"expected <Triples> or <Tuples> in the transition model, got {kind!r}", start)
    count = reader.read_int()
    _check_count(reader, count, kind[1:-1].lower())
    per_item = 3 if kind == "<Triples>" else 4
    # Each entry is a sized int32 (5 bytes): skip them at once, bounds-checked.
    reader.take(5 * per_item * count, f"the transition model's {kind[1:-1].lower()}")
    reader.expect("</" + kind[1:])
    reader.expect("<LogProbs>")
    reader.read_vector()
    reader.expect("</LogProbs>")
    reader.expect("</TransitionModel>")


def _check_count(reader: TokenReader, count: int, what: str) -> None:
    if not 0 <= count <= MAX_ITEMS:
        raise reader.fail(f"the transition model has {count} {what}")
