/*
 * @module scripts/wine/bcryptprimitives.c: a stand-in for Windows' bcryptprimitives.dll, for tests only.
 *
 * Bun's Windows runtime imports a single function from bcryptprimitives.dll, ProcessPrng, to get
 * random bytes. Windows 10 and later ship that DLL; Wine 8.0 does not, so the loader refuses to
 * start a Bun .exe (exit code 53, "bcryptprimitives.dll not found"). This stub provides ProcessPrng
 * on top of RtlGenRandom (advapi32's SystemFunction036), which Wine does implement and which reads
 * the host's random source. It is built by test/helpers/wine.ts and copied into the throwaway Wine
 * prefix; it is never shipped beside a release binary.
 */
#include <windows.h>

/*
 * ntsecapi.h declares RtlGenRandom as a macro over SystemFunction036 without a calling
 * convention that matches every mingw header version, so declare the import here directly.
 */
__declspec(dllimport) BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

/* Fills `out` with `size` cryptographically random bytes; TRUE on success, like the real one. */
BOOL WINAPI ProcessPrng(PBYTE out, SIZE_T size)
{
    /* RtlGenRandom takes a 32-bit length, so feed it bounded chunks. */
    const SIZE_T chunk_limit = 0x40000000;
    while (size > 0) {
        ULONG chunk = (ULONG)(size < chunk_limit ? size : chunk_limit);
        if (!SystemFunction036(out, chunk)) {
            return FALSE;
        }
        out += chunk;
        size -= chunk;
    }
    return TRUE;
}

/* Nothing to set up or tear down; present so the loader has an entry point to call. */
BOOL WINAPI DllMain(HINSTANCE instance, DWORD reason, LPVOID reserved)
{
    (void)instance;
    (void)reason;
    (void)reserved;
    return TRUE;
}
