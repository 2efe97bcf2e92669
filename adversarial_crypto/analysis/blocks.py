"""Byte strings as N-bit blocks of -1/+1 floats, and back.

Bits are taken most significant first within each byte; the last block is
padded with 0 bits (-1.0), so the caller keeps the byte count to join back.
"""

import numpy as np


def bytes_to_blocks(data, block_bits):
  """Splits bytes into blocks.

  Args:
    data: a bytes object.
    block_bits: N, the bits per block.

  Returns:
    float32 array [ceil(8 * len(data) / N), N] of -1.0 (bit 0) and +1.0 (bit 1).
  """
  if block_bits <= 0:
    raise ValueError(f'block_bits must be positive, got {block_bits}')
  bits = np.unpackbits(np.frombuffer(bytes(data), np.uint8))
  bits = np.pad(bits, (0, -len(bits) % block_bits))
  return (bits.astype(np.float32) * 2 - 1).reshape(-1, block_bits)


def blocks_to_bytes(blocks, num_bytes):
  """Joins blocks back into bytes, deciding each bit by its sign (> 0 is 1).

  Args:
    blocks: [num_blocks, N] real values, for instance a network's guesses.
    num_bytes: how many bytes the blocks encode (drops the padding).
  """
  bits = (np.asarray(blocks) > 0).reshape(-1)
  if len(bits) < 8 * num_bytes:
    raise ValueError(f'{len(bits)} bits cannot hold {num_bytes} bytes')
  return np.packbits(bits[:8 * num_bytes]).tobytes()
