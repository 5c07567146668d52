/* A stand-in for Windows' bcryptprimitives.dll, which Wine 8.0 lacks.
 *
 * Rust's standard library (1.78 and newer) imports ProcessPrng from bcryptprimitives.dll for
 * its random numbers (HashMap seeds). Windows 10 and newer ship it; Wine 8.0 does not, so every
 * Rust program fails to start under it. This DLL exports ProcessPrng, implemented with
 * advapi32's RtlGenRandom (SystemFunction036), which Wine has. It is only ever copied into the
 * Wine prefix that `.ci/windows` runs the Windows build's tests in. */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length) {
    while (length > 0) {
        ULONG chunk = length > 0x10000000 ? 0x10000000 : (ULONG)length;
        if (!SystemFunction036(data, chunk)) {
            return FALSE;
        }
        data += chunk;
        length -= chunk;
    }
    return TRUE;
}
