"""Per-chain random streams, buffered so that chains can be updated together in numpy.

One seed in, ``numpy.random.SeedSequence`` streams out: chain ``k`` takes child ``k`` of the master
sequence and, from it, one generator per purpose. Draws are taken from each chain's own generator
in chunks whose sizes depend only on the request sizes, so chain ``k``'s draws are the same whatever
the number of chains, and the same seed gives bit-identical draws.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["ChainStreams", "chain_seed_sequences"]

# A refill draws about this many values over all chains (and at most _MAX_CHUNK per chain): it
# amortises the generator's per-call overhead, which otherwise dominates an iteration of a small
# model. Drawing a stream in chunks gives the same values as drawing it at once, so the chunk
# size may depend on the number of chains without changing any chain's draws.
_REFILL_TOTAL = 1 << 18
_MAX_CHUNK = 1 << 16
# New purposes go at the end: a purpose's index is part of its seed.
_PURPOSES = ("normal", "gamma", "uniform", "slow", "init", "predictive", "latent")


def chain_seed_sequences(
    seed: int | np.random.SeedSequence | Sequence[int | np.random.SeedSequence] | None,
    chains: int,
) -> tuple[np.random.SeedSequence, list[np.random.SeedSequence]]:
    """Return the master sequence and one child per chain (child k independent of ``chains``).

    A sequence of seeds (as PyMC's ``random_seed`` list) gives chain k the sequence of seed k
    itself; the master is then a sequence built from all of them (recorded, never drawn from).
    """
    if isinstance(seed, list | tuple):
        if len(seed) != chains:
            raise ValueError(f"seed: {len(seed)} seeds given for {chains} chains")
        children = [
            s if isinstance(s, np.random.SeedSequence) else np.random.SeedSequence(s) for s in seed
        ]
        master = np.random.SeedSequence([int(c.generate_state(1)[0]) for c in children])
        return master, children
    master = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    children = [
        np.random.SeedSequence(master.entropy, spawn_key=(*master.spawn_key, k))
        for k in range(chains)
    ]
    return master, children


class _Buffer:
    """A (chains, L) block of pre-drawn values consumed column-wise."""

    def __init__(self, chains: int) -> None:
        self.values = np.empty((chains, 0))
        self.pos = 0

    def take(self, k: int, refill) -> np.ndarray:
        if self.pos + k > self.values.shape[1]:
            chains = self.values.shape[0]
            chunk = max(k, min(64 * k, _REFILL_TOTAL // chains, _MAX_CHUNK))
            fresh = refill(chunk)
            self.values = np.concatenate([self.values[:, self.pos :], fresh], axis=1)
            self.pos = 0
        out = self.values[:, self.pos : self.pos + k]
        self.pos += k
        return out


class ChainStreams:
    """Random numbers for a batch of chains, one independent stream per chain.

    Parameters
    ----------
    seed_sequences : sequence of SeedSequence
        One per chain.
    """

    def __init__(self, seed_sequences: Sequence[np.random.SeedSequence]) -> None:
        self._seed_sequences = list(seed_sequences)
        self.chains = len(self._seed_sequences)
        self._generators: dict[str, list[np.random.Generator]] = {}
        self._normal_buf = _Buffer(self.chains)
        self._uniform_buf = _Buffer(self.chains)
        self._gamma_bufs: dict[float, _Buffer] = {}
        # Per-run state of blocks that draw several iterations ahead (see
        # gibbs.kernels.marginal): it lives with the streams because it is made of their draws.
        self.scratch: dict[str, object] = {}
        # What a block reports about its last update, one value per chain (an accept/reject
        # step's outcome): the driver stores them at every kept draw in ``sample_stats``.
        self.stats: dict[str, np.ndarray] = {}

    def _gens(self, purpose: str) -> list[np.random.Generator]:
        """Return the chains' generators for one purpose, created on first use (costly)."""
        gens = self._generators.get(purpose)
        if gens is None:
            index = _PURPOSES.index(purpose)
            gens = self._generators[purpose] = [
                np.random.Generator(
                    np.random.PCG64(
                        np.random.SeedSequence(ss.entropy, spawn_key=(*ss.spawn_key, index))
                    )
                )
                for ss in self._seed_sequences
            ]
        return gens

    @property
    def slow(self) -> list[np.random.Generator]:
        """Unbuffered per-chain generators, for draws whose count varies by chain."""
        return self._gens("slow")

    @property
    def init(self) -> list[np.random.Generator]:
        """Per-chain generators for initial values."""
        return self._gens("init")

    @property
    def predictive(self) -> list[np.random.Generator]:
        """Per-chain generators for posterior predictive draws."""
        return self._gens("predictive")

    @property
    def latent(self) -> list[np.random.Generator]:
        """Per-chain generators for data-augmentation draws (Polya-Gamma variables)."""
        return self._gens("latent")

    def normal(self, k: int) -> np.ndarray:
        """Return standard normals, shape (chains, k)."""
        return self._normal_buf.take(
            k, lambda size: np.stack([g.standard_normal(size) for g in self._gens("normal")])
        )

    def uniform(self, k: int) -> np.ndarray:
        """Return uniforms on [0, 1), shape (chains, k)."""
        return self._uniform_buf.take(
            k, lambda size: np.stack([g.random(size) for g in self._gens("uniform")])
        )

    def gamma(self, shape: float) -> np.ndarray:
        """Return standard gamma variates of the given shape, one per chain, shape (chains,)."""
        buf = self._gamma_bufs.get(shape)
        if buf is None:
            buf = self._gamma_bufs[shape] = _Buffer(self.chains)
        return buf.take(
            1, lambda size: np.stack([g.standard_gamma(shape, size) for g in self._gens("gamma")])
        )[:, 0]
