"""The RDKit half of the ADMET panel, run in a forked process that feeds the D-MPNNs.

The panel's work splits in two nearly equal halves: the ten D-MPNN forwards (torch, which
releases the GIL) and the RDKit work (Chemprop featurisation, the physico-chemical block and its
~300 screened substructure matches per molecule, which keep the GIL). Run as two threads of one
process they contend for the GIL: every torch op the model thread dispatches waits for the RDKit
thread to let go of it, and the panel used ~1.8 of the 2 cores. Here the RDKit half runs in a
child process made with ``os.fork`` at the start of a call, so it inherits the parsed molecules,
the featuriser and the alert screens without pickling any of them, and sends back plain numpy
arrays through a pipe: per batch, the batch graph first (the forward needs it), then the
physico-chemical rows. The child never touches torch (OpenMP is not fork-safe), only RDKit and
numpy, and leaves with ``os._exit`` so no parent clean-up runs twice.

The parent drains the pipe with a reader thread into a queue, so the child never waits for the
parent to finish a forward before it can hand over the next batch.
"""

from __future__ import annotations

import os
import pickle
import queue
import signal
import struct
import threading
import traceback
from collections.abc import Callable, Iterator, Sequence
from typing import Any, NamedTuple

import numpy as np
from rdkit import Chem

from theralab.errors import ModelError

_HEADER = struct.Struct("<Q")


class Graph(NamedTuple):
    """A batch graph with the fields of Chemprop's ``BatchMolGraph`` that the panel's forward reads.

    Built from :func:`graph_arrays` with the same dtype conversions ``BatchMolGraph`` makes
    (float32 features, int64 indices), so the forward sees the very same numbers.
    """

    V: Any
    E: Any
    edge_index: Any
    rev_edge_index: Any
    batch: Any
    X: Any  # the D-MPNN input per edge, [V[source atom], E]: built by the RDKit side, off the forward's path

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> Graph:
        """Wrap the numpy arrays as torch tensors (no copy)."""
        import torch

        return cls(*(torch.from_numpy(arrays[name]) for name in cls._fields))


def graph_arrays(featurizer: Any, mols: Sequence[Chem.Mol]) -> dict[str, np.ndarray]:
    """The batch graph of ``mols`` as numpy arrays, concatenated exactly as ``BatchMolGraph`` does.

    Pure numpy, so the forked child can build it without touching torch.
    """
    graphs = [featurizer(m) for m in mols]
    n_atoms = np.cumsum([0] + [g.V.shape[0] for g in graphs])
    n_edges = np.cumsum([0] + [g.edge_index.shape[1] for g in graphs])
    V = np.concatenate([g.V for g in graphs]).astype(np.float32, copy=False)
    E = np.concatenate([g.E for g in graphs]).astype(np.float32)
    edge_index = np.hstack([g.edge_index + n_atoms[i] for i, g in enumerate(graphs)]).astype(np.int64)
    return {
        "V": V,
        "E": E,
        "X": np.concatenate([V[edge_index[0]], E], axis=1),
        "edge_index": edge_index,
        "rev_edge_index": np.concatenate([g.rev_edge_index + n_edges[i] for i, g in enumerate(graphs)]).astype(
            np.int64
        ),
        "batch": np.repeat(np.arange(len(graphs), dtype=np.int64), np.diff(n_atoms)),
    }


def can_fork() -> bool:
    """Whether the RDKit half may run in a forked child.

    Only where ``os.fork`` exists, from the main thread, and while no other non-daemon Python
    thread runs: a thread that holds a lock (an RDKit mutex, a logging handler) at the moment of
    the fork would leave the child waiting for it forever. Daemon threads are background helpers
    (tqdm's monitor, which ADMET-AI starts, sleeps between checks) and the panel's own threads are
    gone by the time it forks; a server, which calls the panel from request threads, takes the
    in-process path instead (the CLI, jobs and benchmarks call it from their main thread).
    """
    if not hasattr(os, "fork"):
        return False
    main = threading.main_thread()
    return threading.current_thread() is main and all(t is main or t.daemon for t in threading.enumerate())


class ForkedFeeder:
    """Parse, featurise and compute physico-chemical rows batch by batch in a child process.

    Use as a context manager: :meth:`header` first, then :meth:`graph` and :meth:`physchem` in batch
    order.

    Args:
        featurizer: Chemprop's molecule featuriser (inherited by the child through the fork).
        plan: run in the child: ``plan() -> (mols, batches, header)``, the molecules (parsed there
            from SMILES, or inherited), the row indices of each batch and a small picklable header
            the parent needs first (per-row errors and reasons, from which it derives the same
            batches).
        physchem: ``physchem(mols) -> ndarray`` for one batch.
    """

    def __init__(
        self,
        featurizer: Any,
        plan: Callable[[], tuple[Sequence[Chem.Mol], Sequence[Sequence[int]], Any]],
        physchem: Callable[[Sequence[Chem.Mol]], np.ndarray],
    ):
        self._args = (featurizer, plan, physchem)
        self._pid = 0
        self._queue: queue.Queue[tuple[str, int, Any]] = queue.Queue()
        self._pending: dict[tuple[str, int], Any] = {}
        self._reader: threading.Thread | None = None
        self.done = threading.Event()  # set when the child has sent everything (its core is free)

    def __enter__(self) -> ForkedFeeder:
        read_fd, write_fd = os.pipe()
        pid = os.fork()
        if pid == 0:  # child: RDKit and numpy only, then leave without any parent clean-up
            code = 0
            try:
                os.close(read_fd)
                _child(write_fd, *self._args)
            except BaseException:  # noqa: BLE001 - the parent raises it, the child must just exit
                code = 1
            finally:
                os._exit(code)
        os.close(write_fd)
        self._pid = pid
        self._reader = threading.Thread(target=self._read, args=(read_fd,), daemon=True)
        self._reader.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pid:
            if exc[0] is not None:  # the parent failed: the child's work is no longer wanted
                try:
                    os.kill(self._pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            os.waitpid(self._pid, 0)
            self._pid = 0
        if self._reader is not None:
            self._reader.join()

    def _read(self, fd: int) -> None:
        with os.fdopen(fd, "rb") as stream:
            while True:
                header = stream.read(_HEADER.size)
                if len(header) < _HEADER.size:
                    self.done.set()
                    self._queue.put(("eof", -1, None))
                    return
                self._queue.put(pickle.loads(stream.read(_HEADER.unpack(header)[0])))

    def _get(self, kind: str, n: int) -> Any:
        while (kind, n) not in self._pending:
            got_kind, got_n, value = self._queue.get()
            if got_kind == "error":
                raise ModelError("the panel's RDKit worker failed", hint=value)
            if got_kind == "eof":
                raise ModelError("the panel's RDKit worker process ended early (killed or out of memory?)")
            self._pending[(got_kind, got_n)] = value
        return self._pending.pop((kind, n))

    def header(self) -> Any:
        """The plan's header (waits for the child)."""
        return self._get("header", 0)

    def graph(self, n: int) -> Graph:
        """The batch graph of batch ``n`` (waits for the child)."""
        return Graph.from_arrays(self._get("graph", n))

    def physchem(self, n: int) -> np.ndarray:
        """The physico-chemical rows of batch ``n`` (waits for the child)."""
        return self._get("phys", n)


def _child(fd: int, featurizer: Any, plan: Any, physchem: Any) -> None:
    """The plan's header, then each batch's graph one batch ahead of its physico-chemical rows, so
    the parent's first forward starts after one featurisation and the last physico-chemical block
    overlaps the last forward."""
    with os.fdopen(fd, "wb") as stream:
        try:
            mols, batches, header = plan()
            _send(stream, ("header", 0, header))
            for kind, n in _schedule(len(batches)):
                part = [mols[i] for i in batches[n]]
                value = graph_arrays(featurizer, part) if kind == "graph" else physchem(part)
                _send(stream, (kind, n, value))
        except Exception as exc:  # noqa: BLE001 - reported to the parent, which raises it
            _send(stream, ("error", -1, "".join(traceback.format_exception_only(exc)).strip()))


def _schedule(n_batches: int) -> Iterator[tuple[str, int]]:
    """graph 0, graph 1, phys 0, graph 2, phys 1, ..., phys n-1."""
    for n in range(n_batches + 1):
        if n < n_batches:
            yield "graph", n
        if n > 0:
            yield "phys", n - 1


def _send(stream: Any, message: tuple[str, int, Any]) -> None:
    blob = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_HEADER.pack(len(blob)))
    stream.write(blob)
    stream.flush()
