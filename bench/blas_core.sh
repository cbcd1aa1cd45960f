# Sourced by the benchmarks: every tool of a run gets the same OpenBLAS kernels, the best this
# CPU allows.  OpenBLAS 0.3.21 (Debian 12) picks its kernels from the CPU model when it is
# loaded; on a model its tables do not know it falls back to Prescott (SSE3) kernels, 4 to 5x
# slower than the AVX-512 ones.  An OPENBLAS_CORETYPE already in the environment (some machines
# set Haswell for every process: half the sgemm rate of Cooperlake on Zen 4) is replaced by that
# choice too, so that no peer runs below its best; BLAS_CORE=auto keeps the environment as it
# is, BLAS_CORE=NAME sets NAME.  invscale makes the same choice when nothing is set (cli/main.c).
# Needs $py; sets $core (the library's own detection) and exports OPENBLAS_CORETYPE.
core=$(env -u OPENBLAS_CORETYPE $py -c "import ctypes; l = ctypes.CDLL('libopenblas.so.0'); l.openblas_get_corename.restype = ctypes.c_char_p; print(l.openblas_get_corename().decode())")
blas_env=${OPENBLAS_CORETYPE:-}
if [ "${BLAS_CORE:-}" = auto ]; then :
elif [ -n "${BLAS_CORE:-}" ]; then export OPENBLAS_CORETYPE=$BLAS_CORE
elif [ "${core,,}" != prescott ]; then export OPENBLAS_CORETYPE=$core
elif grep -qw avx512_bf16 /proc/cpuinfo; then export OPENBLAS_CORETYPE=Cooperlake
elif grep -qw avx512f /proc/cpuinfo; then export OPENBLAS_CORETYPE=SkylakeX
elif grep -qw avx2 /proc/cpuinfo; then export OPENBLAS_CORETYPE=Haswell
else unset OPENBLAS_CORETYPE
fi
echo "OpenBLAS core: $core by its own detection${blas_env:+; the environment had OPENBLAS_CORETYPE=$blas_env}${OPENBLAS_CORETYPE:+; this run uses OPENBLAS_CORETYPE=$OPENBLAS_CORETYPE for every tool}"
