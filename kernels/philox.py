"""A counter-based random stream, Philox4x32-10, written once for CPU and CUDA.

Philox (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC'11)
maps a 128-bit counter and a 64-bit key to 128 random bits with no state in
between, so any thread can compute any element of a stream directly: synthetic
row ``j`` of a class gets its draws from counter ``j``, whatever chunk or
thread computes it. Philox4x32-10 is the variant GPUs run natively (32-bit
multiplies; cuRAND's and PyTorch's CUDA generator). The block function here
equals Random123's known-answer vectors and randomgen's ``Philox(number=4,
width=32)`` bit for bit (NumPy's own ``numpy.random.Philox`` is the 4x64
variant only). randomgen increments its counter *before* it generates a
block, so::

    Philox(number=4, width=32, counter=c, key=k).random_raw(4 * n)[4 * b : 4 * b + 4]
        == philox4x32_10(*words(c + 1 + b), *words(k))

where ``words`` splits an integer into little-endian 32-bit words (counter
arithmetic modulo 2**128).

Every function is plain Python on ``uint64`` scalars (32-bit words held in 64
bits), compiled for the CPU with ``numba.njit`` and for CUDA with
``numba.cuda.jit(device=True)`` (:func:`_make_functions`). Three rules keep the
one source valid on both targets and under Numba's CUDA simulator, which runs
it on NumPy scalars:

* every constant is an ``np.uint64`` (Numba types ``uint64 op int64`` as
  float64);
* no 128-bit integers: :func:`mulhilo64` (for the bounded integers) builds the
  64x64->128-bit product from 32-bit halves;
* no operation ever wraps around (NumPy scalars warn on overflow): a 32x32-bit
  product and a sum of two 32-bit words fit in 64 bits.

``numba.cuda`` is imported on the first call of :func:`cuda_kernels`, never at
import, so CPU-only users do not pay for it.

SMOTE draws
-----------
Synthetic row ``j`` (0-based within its class, ``j < 2**63``) of the class at
position ``class_index`` among all of y's sorted labels, for ``seed`` and
``stream`` (``seed`` taken mod 2**64, ``class_index`` and ``stream`` mod
2**32)::

    counter = (j mod 2**32, j >> 32, class_index, stream)
    key     = (seed mod 2**32, seed >> 32)
    r0, r1, r2, r3 = philox4x32_10(*counter, *key)
    step = uniform_from_words(r0, r1)              # [0, 1)
    flat, rejected = bounded_high(r2 << 32 | r3, n_base_rows * k)
    if rejected:                                   # probability < n_base_rows * k / 2**64
        s0, s1, _, _ = philox4x32_10(j mod 2**32, (j >> 32) | 2**31, class_index, stream, *key)
        flat, _ = bounded_high(s0 << 32 | s1, n_base_rows * k)
    row, col = divmod(flat, k)

so ``step`` is randomgen's ``Generator.random()`` on this block and
``r2 << 32 | r3`` its next 64-bit word; the retry block's counter sets a bit
``j`` never sets, and is only computed when needed.
"""

from __future__ import annotations

import functools
import operator
from types import SimpleNamespace

import numpy as np
from numba import njit, prange

from gpusmote.kernels import _cuda
from gpusmote.kernels._cpu_jit import parallel_cpu_kernel

# Constants are np.uint64 so that Numba types every operation as uint64.
_ONE = np.uint64(1)
_LOW32 = np.uint64(0xFFFFFFFF)
_SHIFT32 = np.uint64(32)
_SHIFT5 = np.uint64(5)
_SHIFT6 = np.uint64(6)
_SHIFT26 = np.uint64(26)
# Random123's Philox4x32 multipliers and Weyl key increments.
_PHILOX_M0 = np.uint64(0xD2511F53)
_PHILOX_M1 = np.uint64(0xCD9E8D57)
_PHILOX_W0 = np.uint64(0x9E3779B9)
_PHILOX_W1 = np.uint64(0xBB67AE85)
#: Counter word 1's top bit: set only in a draw's retry block (j < 2**63).
_RETRY_BIT = np.uint64(0x80000000)
_TWO_POW_M53 = 1.0 / 9007199254740992.0

#: Exclusive upper limit of ``high`` in :func:`bounded_high`.
MAX_HIGH = 2**62
_U64 = 2**64


def _make_functions(jit):
    """The scalar algorithms, compiled with ``jit`` for one target."""

    @jit
    def mulhilo64(a, b):
        """The 128-bit product of two uint64 as ``(high, low)`` 64-bit words.

        Parameters
        ----------
        a, b : uint64

        Returns
        -------
        high, low : uint64
            ``a * b == high * 2**64 + low``.
        """
        a_lo = a & _LOW32
        a_hi = a >> _SHIFT32
        b_lo = b & _LOW32
        b_hi = b >> _SHIFT32
        lo_lo = a_lo * b_lo
        hi_lo = a_hi * b_lo
        lo_hi = a_lo * b_hi
        # Bits 32..127 of the product, minus a_hi * b_hi: at most
        # (2**32 - 2) + (2**32 - 1) + (2**32 - 1)**2 < 2**64, so nothing wraps.
        mid = (lo_lo >> _SHIFT32) + (hi_lo & _LOW32) + lo_hi
        high = a_hi * b_hi + (hi_lo >> _SHIFT32) + (mid >> _SHIFT32)
        low = (mid << _SHIFT32) | (lo_lo & _LOW32)
        return high, low

    @jit
    def philox_round(c0, c1, c2, c3, k0, k1):
        # 32x32-bit products fit in 64 bits: no wrap-around.
        p0 = _PHILOX_M0 * c0
        p1 = _PHILOX_M1 * c2
        return ((p1 >> _SHIFT32) ^ c1 ^ k0, p1 & _LOW32,
                (p0 >> _SHIFT32) ^ c3 ^ k1, p0 & _LOW32)

    @jit
    def philox4x32_10(c0, c1, c2, c3, k0, k1):
        """One Philox4x32-10 block: Random123's and randomgen's, bit for bit.

        Parameters
        ----------
        c0, c1, c2, c3 : uint64
            Counter words (each < 2**32), least significant first.
        k0, k1 : uint64
            Key words (each < 2**32), least significant first.

        Returns
        -------
        tuple of 4 uint64
            The block's 32-bit words. randomgen's ``Philox(number=4,
            width=32, counter=c, key=k)`` returns the block of counter
            ``c + 1`` first (it increments, then generates).
        """
        # Fresh names: rebinding an argument to uint64 could make Numba unify
        # int64 with uint64 (as float64) at the loop head.
        x0, x1, x2, x3 = np.uint64(c0), np.uint64(c1), np.uint64(c2), np.uint64(c3)
        key0, key1 = np.uint64(k0), np.uint64(k1)
        x0, x1, x2, x3 = philox_round(x0, x1, x2, x3, key0, key1)
        for _ in range(9):
            key0 = (key0 + _PHILOX_W0) & _LOW32
            key1 = (key1 + _PHILOX_W1) & _LOW32
            x0, x1, x2, x3 = philox_round(x0, x1, x2, x3, key0, key1)
        return x0, x1, x2, x3

    @jit
    def uniform_from_words(a, b):
        """A float64 in [0, 1) from two random 32-bit words.

        ``((a >> 5) * 2**26 + (b >> 6)) * 2**-53``: randomgen's
        ``Generator.random()`` on a 32-bit stream (and NumPy's
        ``RandomState.random_sample`` on MT19937's words); every multiple of
        2**-53 in [0, 1) is equally likely.

        Parameters
        ----------
        a, b : uint64
            Words below 2**32.

        Returns
        -------
        float64
        """
        # The 53-bit integer converts to float64 exactly; the scaling is exact.
        mantissa = ((np.uint64(a) >> _SHIFT5) << _SHIFT26) | (np.uint64(b) >> _SHIFT6)
        return np.float64(mantissa) * _TWO_POW_M53

    @jit
    def bounded_high(x, high):
        """Lemire's bounded integer from a 64-bit word, and whether to reject it.

        ``(x * high) >> 64`` is in [0, high); it favours some values unless
        words whose low 64 product bits fall below
        ``t = (2**64 - high) % high`` are rejected (probability
        ``t / 2**64 < high / 2**64``). A draw replaces a rejected word once and
        accepts the replacement's value whatever its low bits, so its
        total-variation distance from uniform is at most
        ``(t / 2**64)**2 < (high / 2**64)**2``: below 2**-100 for
        ``high < 2**14``, below 2**-60 for ``high < 2**34``.

        Parameters
        ----------
        x : uint64
        high : int
            Exclusive bound, ``1 <= high < 2**62`` (not checked here).

        Returns
        -------
        value : int64
        rejected : bool
        """
        h = np.uint64(high)
        result, low = mulhilo64(np.uint64(x), h)
        rejected = False
        if low < h:  # the threshold is below high: skip its division mostly
            threshold = (~h + _ONE) % h  # (2**64 - h) % h, without wrapping
            rejected = low < threshold
        return np.int64(result), rejected

    @jit
    def smote_draw(seed, class_index, stream, j, high, k):
        """``(row, col, step)`` of synthetic row ``j`` (see module notes)."""
        j_word = np.uint64(j)
        c0, c1 = j_word & _LOW32, j_word >> _SHIFT32
        c2, c3 = np.uint64(class_index) & _LOW32, np.uint64(stream) & _LOW32
        key0, key1 = np.uint64(seed) & _LOW32, np.uint64(seed) >> _SHIFT32
        r0, r1, r2, r3 = philox4x32_10(c0, c1, c2, c3, key0, key1)
        flat, rejected = bounded_high((r2 << _SHIFT32) | r3, high)
        if rejected:  # a second block, only now (see module notes)
            s0, s1, _, _ = philox4x32_10(c0, c1 | _RETRY_BIT, c2, c3, key0, key1)
            flat, _ = bounded_high((s0 << _SHIFT32) | s1, high)
        row = flat // k
        return row, flat - row * k, uniform_from_words(r0, r1)

    return SimpleNamespace(
        mulhilo64=mulhilo64, philox_round=philox_round, philox4x32_10=philox4x32_10,
        uniform_from_words=uniform_from_words, bounded_high=bounded_high, smote_draw=smote_draw,
    )


# Plain njit: LLVM inlines these small functions into their callers anyway, and
# Numba's IR-level inline="always" measured 1.7x slower in the draw kernel.
_cpu = _make_functions(njit)

# The CPU builds, callable from other njit code and from Python. From Python,
# pass np.uint64 words: Numba would compile an int64 build for a small Python
# int and then fail to convert a later one >= 2**63 to it.
mulhilo64 = _cpu.mulhilo64
philox4x32_10 = _cpu.philox4x32_10
uniform_from_words = _cpu.uniform_from_words
bounded_high = _cpu.bounded_high
# Module globals, because Numba cannot look attributes up on a namespace.
_smote_draw_cpu = _cpu.smote_draw


@parallel_cpu_kernel(nogil=True)
def smote_draws_kernel(seed, class_index, stream, start, n_base_rows, k, rows_out, cols_out,
                       steps_out):
    """The CPU kernel behind :func:`philox_smote_draws`, for calls from njit code.

    Same arguments; from Python, prefer :func:`philox_smote_draws`, which
    normalises the scalars' types (Numba dispatches a Python int >= 2**63 to an
    int64 build compiled earlier, and fails to convert it).
    """
    n = rows_out.shape[0]
    if cols_out.shape[0] != n or steps_out.shape[0] != n:
        raise ValueError("rows_out, cols_out and steps_out must have the same length")
    if start < 0:
        raise ValueError("start must be >= 0")
    if n_base_rows < 1 or k < 1 or n_base_rows > (MAX_HIGH - 1) // k:
        raise ValueError("need 1 <= n_base_rows * k < 2**62")
    high = n_base_rows * k
    for i in prange(n):
        row, col, step = _smote_draw_cpu(seed, class_index, stream, start + i, high, k)
        rows_out[i] = row
        cols_out[i] = col
        steps_out[i] = step


def _checked_args(seed, class_index, stream, start, n_base_rows, k, rows_out, cols_out,
                  steps_out) -> tuple:
    """Validate the arguments of a draw and give the scalars fixed NumPy types,
    so each kernel compiles once and reads the words the same way."""
    n = len(rows_out)
    if len(cols_out) != n or len(steps_out) != n:
        raise ValueError("rows_out, cols_out and steps_out must have the same length")
    for name, array, dtype in (("rows_out", rows_out, np.int64), ("cols_out", cols_out, np.int64),
                               ("steps_out", steps_out, np.float64)):
        if np.dtype(array.dtype) != dtype:
            raise ValueError(f"{name} must be {np.dtype(dtype)}, not {array.dtype}")
    start, n_base_rows, k = (operator.index(v) for v in (start, n_base_rows, k))
    if start < 0 or start >= 2**63 - n:
        raise ValueError("need 0 <= start and start + len(rows_out) < 2**63")
    if n_base_rows < 1 or k < 1 or n_base_rows * k >= MAX_HIGH:
        raise ValueError("need 1 <= n_base_rows * k < 2**62")
    # Unsigned words are read modulo 2**64 (np.uint64 of a negative int
    # raises); the draw keeps class_index's and stream's low 32 bits.
    words = (np.uint64(operator.index(v) % _U64) for v in (seed, class_index, stream))
    return (*words, np.int64(start), np.int64(n_base_rows), np.int64(k))


def philox_smote_draws(seed: int, class_index: int, stream: int, start: int, n_base_rows: int,
                       k: int, rows_out: np.ndarray, cols_out: np.ndarray,
                       steps_out: np.ndarray) -> None:
    """SMOTE draws for synthetic rows ``start .. start + n - 1`` of one class (CPU).

    Row ``j`` depends only on ``(seed, class_index, stream, j)``, so drawing a
    range at once or in any chunks gives the same values. The work runs in
    :func:`smote_draws_kernel` (``numba.njit(parallel=True)``, one ``prange``
    iteration per row).

    Parameters
    ----------
    seed : int
        Key of the stream, in [0, 2**64) (other integers are taken mod 2**64).
    class_index : int
        Position of the class among all of y's sorted labels
        (taken mod 2**32).
    stream : int
        Sub-stream, e.g. an epoch number for a data loader; 0 by default
        (taken mod 2**32).
    start : int
        Index of the first synthetic row within its class, ``>= 0``.
    n_base_rows, k : int
        Base rows of the class and neighbours per row;
        ``1 <= n_base_rows * k < 2**62``.
    rows_out, cols_out : ndarray of shape (n,), int64
        Filled with the base row in [0, n_base_rows) and the neighbour column
        in [0, k) of each synthetic row.
    steps_out : ndarray of shape (n,), float64
        Filled with the step in [0, 1) of each synthetic row.

    Raises
    ------
    ValueError
        If the outputs' lengths or dtypes are wrong, ``start < 0`` or
        ``n_base_rows * k`` is out of range.
    """
    args = _checked_args(seed, class_index, stream, start, n_base_rows, k, rows_out, cols_out,
                         steps_out)
    smote_draws_kernel(*args, rows_out, cols_out, steps_out)


#: ``numba.cuda``, bound on first use (see ``gpusmote.kernels._cuda.bind``).
cuda = None


@functools.cache
def cuda_kernels() -> SimpleNamespace:
    """The CUDA builds (compiled on first use).

    Returns
    -------
    SimpleNamespace
        Device functions ``mulhilo64``, ``philox4x32_10``,
        ``uniform_from_words``, ``bounded_high`` and
        ``smote_draw(seed, class_index, stream, j, high, k) -> (row, col,
        step)``, the same source as the CPU builds; and the kernel
        ``smote_draws[blocks, threads](seed, class_index, stream, start,
        n_base_rows, k, rows_out, cols_out, steps_out)``, one thread per
        synthetic row (grid-stride loop), arguments unchecked:
        :func:`philox_smote_draws_cuda` validates and launches it.
    """
    _cuda.bind(globals())
    device = _make_functions(cuda.jit(device=True))
    draw = device.smote_draw

    @cuda.jit
    def smote_draws(seed, class_index, stream, start, n_base_rows, k, rows_out, cols_out,
                    steps_out):
        high = n_base_rows * k
        for i in range(cuda.grid(1), rows_out.shape[0], cuda.gridsize(1)):
            row, col, step = draw(seed, class_index, stream, start + i, high, k)
            rows_out[i] = row
            cols_out[i] = col
            steps_out[i] = step

    return SimpleNamespace(
        mulhilo64=device.mulhilo64, philox4x32_10=device.philox4x32_10,
        uniform_from_words=device.uniform_from_words,
        bounded_high=device.bounded_high, smote_draw=draw, smote_draws=smote_draws,
    )


def philox_smote_draws_cuda(seed: int, class_index: int, stream: int, start: int,
                            n_base_rows: int, k: int, rows_out, cols_out, steps_out, *,
                            threads: int = 256, cuda_stream=0) -> None:
    """:func:`philox_smote_draws` on a CUDA device, bit-identical to it.

    Parameters
    ----------
    seed, class_index, stream, start, n_base_rows, k : int
        As for :func:`philox_smote_draws`.
    rows_out, cols_out, steps_out : arrays of shape (n,)
        int64, int64 and float64 outputs. NumPy arrays are copied to the
        device, filled there and copied back; anything else (Numba device
        arrays, CuPy arrays) is taken as device memory and written in place.
    threads : int, default 256
        Threads per block.
    cuda_stream : numba.cuda stream or 0, default 0
        CUDA stream to launch on (0: the default stream). Host outputs are
        complete on return; device outputs follow the stream's order.

    Raises
    ------
    ValueError
        As :func:`philox_smote_draws`.
    """
    args = _checked_args(seed, class_index, stream, start, n_base_rows, k, rows_out, cols_out,
                         steps_out)
    if len(rows_out) == 0:
        return
    _cuda.bind(globals())
    outputs = [(array, cuda.to_device(array, stream=cuda_stream)) if isinstance(array, np.ndarray)
               else (None, array) for array in (rows_out, cols_out, steps_out)]
    cuda_kernels().smote_draws[_cuda.grid_blocks(len(rows_out), threads), threads, cuda_stream](
        *args, *(device_array for _, device_array in outputs))
    for host_array, device_array in outputs:
        if host_array is not None:
            device_array.copy_to_host(host_array, stream=cuda_stream)
    if cuda_stream != 0 and any(host_array is not None for host_array, _ in outputs):
        cuda_stream.synchronize()  # the copies back were asynchronous
