"""Adversarial neural cryptography (Abadi & Andersen, 2016) in JAX."""

from adversarial_crypto.blocks import blocks_to_bytes
from adversarial_crypto.blocks import bytes_to_blocks
from adversarial_crypto.cipher import decrypt
from adversarial_crypto.cipher import eavesdrop
from adversarial_crypto.cipher import encrypt
from adversarial_crypto.cipher import load_run
from adversarial_crypto.cipher import Run
