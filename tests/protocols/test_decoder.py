"""The streaming decoder: resynchronisation rule, counters, and properties over any input."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from protocols.igp1 import (
    Decoder,
    Frame,
    Heartbeat,
    IdentReq,
    Message,
    Shot,
    Unknown,
    build_frame,
)
from tests.protocols.strategies import frames

SHOT = Shot(18, 61234, 2480, 0, 50_000, 1_784_000)
BEAT = Heartbeat(61000, 17, 1, 87, 0, 1_834_000)


def decode_all(
    stream: bytes, chunk: int | None = None, finish: bool = True
) -> tuple[list[Frame], Decoder]:
    """Decode ``stream`` in one piece or in chunks, then settle the end of the stream."""
    decoder = Decoder()
    out: list[Frame] = []
    if chunk is None:
        out = decoder.feed(stream)
    else:
        for offset in range(0, len(stream), chunk):
            out.extend(decoder.feed(stream[offset : offset + chunk]))
    if finish:
        out.extend(decoder.finish())
    return out, decoder


def test_banner_and_noise_between_frames_are_counted_as_garbage() -> None:
    stream = b"MG-400 boot v2.4.1\r\n" + SHOT.encode(0) + b"\x00\x01\x02" + BEAT.encode(1)
    out, decoder = decode_all(stream)
    assert [f.message for f in out] == [SHOT, BEAT]
    assert decoder.stats.garbage_bytes == 23
    assert decoder.stats.frames == 2


def test_a_false_start_does_not_swallow_the_frame_behind_it() -> None:
    # 0xA5 followed by what looks like a SHOT header: the decoder must drop only that SOF.
    false_start = bytes([0xA5, 20, 0, 0x10])
    out, decoder = decode_all(false_start + SHOT.encode(1) + BEAT.encode(2))
    assert [f.message for f in out] == [SHOT, BEAT]
    assert decoder.stats.bad_crc == 1
    assert decoder.stats.garbage_bytes == 4


def test_bad_crc_is_dropped_and_counted() -> None:
    bad = bytearray(SHOT.encode(0))
    bad[10] ^= 0x01
    out, decoder = decode_all(bytes(bad) + BEAT.encode(1))
    assert [f.message for f in out] == [BEAT]
    assert decoder.stats.bad_crc == 1
    assert decoder.stats.garbage_bytes == len(bad)


def test_length_above_64_and_wrong_length_for_known_id_are_bad_length() -> None:
    too_long = bytes([0xA5, 65, 0, 0x10])
    wrong_len = build_frame(0x10, 0, bytes(19))  # SHOT must be 20 bytes
    out, decoder = decode_all(too_long + wrong_len + SHOT.encode(1))
    assert [f.message for f in out] == [SHOT]
    assert decoder.stats.bad_length == 2
    assert decoder.stats.bad_crc == 0


def test_unknown_message_with_good_crc_is_skipped_whole() -> None:
    unknown = build_frame(0x7E, 0, bytes([0xA5] * 10))  # SOFs inside must not be rescanned
    out, decoder = decode_all(unknown + SHOT.encode(1))
    assert [f.message for f in out] == [SHOT]
    assert decoder.stats.unknown == 1
    assert decoder.stats.garbage_bytes == 0
    assert decoder.stats.seq_gaps == 0


def test_seq_gaps_count_discontinuities_and_missing_frames() -> None:
    stream = SHOT.encode(0) + SHOT.encode(1) + SHOT.encode(4) + SHOT.encode(4)
    _, decoder = decode_all(stream)
    assert decoder.stats.seq_gaps == 2  # 1→4 and the repeated 4
    assert decoder.stats.seq_missing == 2  # 2 and 3


def test_seq_wraps_without_a_gap() -> None:
    _, decoder = decode_all(SHOT.encode(255) + SHOT.encode(0))
    assert decoder.stats.seq_gaps == 0


def test_finish_releases_a_frame_held_behind_a_false_start() -> None:
    # A5 0B claims an 11-byte payload of an unknown id, which swallows the real frame after it
    # until more bytes come; at the end of the stream the decoder must give it up.
    decoder = Decoder()
    assert decoder.feed(b"\xa5\x0b" + IdentReq().encode(7)) == []
    assert [f.message for f in decoder.finish()] == [IdentReq()]
    assert decoder.pending == 0
    assert decoder.stats.garbage_bytes == 2


def test_incomplete_frame_waits_for_the_rest() -> None:
    decoder = Decoder()
    frame = SHOT.encode(0)
    assert decoder.feed(frame[:10]) == []
    assert decoder.pending == 10
    assert [f.message for f in decoder.feed(frame[10:])] == [SHOT]
    assert decoder.pending == 0


@given(frames)
def test_round_trip_every_message(frame: tuple[int, Message]) -> None:
    seq, message = frame
    out, decoder = decode_all(message.encode(seq))
    assert out == [Frame(seq, message)]
    assert decoder.stats.garbage_bytes == 0


@given(st.binary(max_size=2000))
def test_arbitrary_bytes_never_raise_and_every_byte_is_accounted_for(data: bytes) -> None:
    out, decoder = decode_all(data)
    for frame in out:
        assert frame.message.encode(frame.seq) in data  # only frames that really were there
    s = decoder.stats
    consumed = sum(len(f.message.encode(f.seq)) for f in out)
    assert consumed + s.garbage_bytes + decoder.pending <= len(data)


@settings(max_examples=200)
@given(
    st.lists(
        st.one_of(frames, st.binary(min_size=1, max_size=30).map(lambda b: b"\xa5" + b)),
        max_size=40,
    ),
    st.data(),
)
def test_garbage_interleaved_with_frames_loses_no_untouched_frame(
    items: list[tuple[int, Message] | bytes], data: st.DataObject
) -> None:
    stream = b"".join(i if isinstance(i, bytes) else i[1].encode(i[0]) for i in items)
    expected = [Frame(*i) for i in items if not isinstance(i, bytes)]
    out, decoder = decode_all(stream)
    # A garbage blob can add a spurious frame only if it happens to hold a whole valid one;
    # every real frame must still come out, in order, and nothing stays held back.
    assert decoder.pending == 0
    remaining = iter(out)
    for frame in expected:
        assert any(got == frame for got in remaining), f"lost {frame}"


@given(st.lists(st.one_of(frames, st.binary(max_size=30)), max_size=30), st.data())
def test_any_split_into_chunks_gives_the_same_result(
    items: list[tuple[int, Message] | bytes], data: st.DataObject
) -> None:
    stream = b"".join(i if isinstance(i, bytes) else i[1].encode(i[0]) for i in items)
    whole, whole_decoder = decode_all(stream, finish=False)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=20)))
    decoder = Decoder()
    pieces: list[Frame] = []
    previous = 0
    for cut in [*cuts, len(stream)]:
        pieces.extend(decoder.feed(stream[previous:cut]))
        previous = cut
    assert pieces == whole
    assert decoder.stats == whole_decoder.stats
    assert decoder.pending == whole_decoder.pending


def test_byte_by_byte_equals_one_piece_on_a_large_mixed_stream() -> None:
    from benchmarks.bench_decoder import make_stream

    stream, valid = make_stream(5000, seed=3)
    whole, whole_decoder = decode_all(stream)
    bytewise, byte_decoder = decode_all(stream, chunk=1)
    assert bytewise == whole
    assert byte_decoder.stats == whole_decoder.stats
    assert len(whole) >= valid


def test_keep_unknown_hands_on_unknown_frames_in_order() -> None:
    unknown = build_frame(0x7E, 5, b"\x01\x02")
    decoder = Decoder(keep_unknown=True)
    out = decoder.feed(SHOT.encode(4) + unknown + BEAT.encode(6))
    assert out == [Frame(4, SHOT), Frame(5, Unknown(0x7E, b"\x01\x02")), Frame(6, BEAT)]
    assert decoder.stats.unknown == 1
    assert decoder.stats.frames == 2
