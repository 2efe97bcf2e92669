"""Adversarial neural cryptography (Abadi & Andersen, 2016) in JAX."""

from adversarial_crypto.analysis.blocks import blocks_to_bytes
from adversarial_crypto.analysis.blocks import bytes_to_blocks
from adversarial_crypto.analysis.cipher import decrypt
from adversarial_crypto.analysis.cipher import eavesdrop
from adversarial_crypto.analysis.cipher import encrypt
from adversarial_crypto.analysis.cipher import load_run
from adversarial_crypto.analysis.cipher import Run
