"""The peers' side of `naskah-bench`: WeasyPrint and PyPI's `typst`, driven by the bench.

Every mode prints one JSON object on standard output. Run by the venv's Python that
benches/peers.sh sets up; the bench writes the documents it converts.

  warm HTML N              WeasyPrint in this process: import, first and N warm conversions
  batch WORKERS HTML...    WeasyPrint over WORKERS processes (warmed), total seconds
  one HTML OUT             one WeasyPrint conversion with this process's peak memory
  measure -- CMD...        run CMD once: wall seconds and the child's peak memory
  typst-one MAIN OUT ROOT FONTS   PyPI typst, compile one document (one process per document)
  typst-warm MAIN ROOT FONTS N    PyPI typst in this process, N warm compiles
"""

import json
import os
import resource
import subprocess
import sys
import time


def emit(value):
    print(json.dumps(value))
    sys.stdout.flush()


def weasy_convert(path):
    import weasyprint

    document = weasyprint.HTML(filename=path, base_url=os.path.dirname(path)).render()
    pdf = document.write_pdf()
    return len(document.pages), len(pdf)


def peak_kib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def warm(path, runs):
    started = time.perf_counter()
    import weasyprint  # noqa: F401

    import_ms = (time.perf_counter() - started) * 1000
    started = time.perf_counter()
    pages, size = weasy_convert(path)
    first_ms = (time.perf_counter() - started) * 1000
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        weasy_convert(path)
        times.append((time.perf_counter() - started) * 1000)
    emit({"import_ms": import_ms, "first_ms": first_ms, "times_ms": times, "pages": pages, "bytes": size})


def _worker_init():
    import weasyprint  # noqa: F401


def _worker(path):
    return weasy_convert(path)[0]


def batch(workers, paths):
    import multiprocessing

    with multiprocessing.get_context("fork").Pool(workers, initializer=_worker_init) as pool:
        # Warm every worker (import done by the initializer; one small conversion each).
        pool.map(_worker, paths[:workers], chunksize=1)
        started = time.perf_counter()
        pages = pool.map(_worker, paths, chunksize=1)
        seconds = time.perf_counter() - started
    emit({"seconds": seconds, "documents": len(paths), "pages": sum(pages)})


def one(path, out):
    import weasyprint

    started = time.perf_counter()
    document = weasyprint.HTML(filename=path, base_url=os.path.dirname(path)).render()
    document.write_pdf(out)
    emit({"seconds": time.perf_counter() - started, "pages": len(document.pages), "peak_kib": peak_kib()})


def measure(command):
    started = time.perf_counter()
    completed = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    seconds = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    emit({
        "seconds": seconds,
        "peak_kib": usage.ru_maxrss,
        "returncode": completed.returncode,
        "stderr": completed.stderr.decode("utf-8", "replace")[-2000:],
    })


def typst_compiler(root, fonts):
    import typst

    return typst.Compiler(root=root, font_paths=[fonts], ignore_system_fonts=True)


def typst_one(main, out, root, fonts):
    import typst

    typst.compile(main, output=out, root=root, font_paths=[fonts], ignore_system_fonts=True)
    emit({"ok": True})


def typst_warm(main, root, fonts, runs):
    compiler = typst_compiler(root, fonts)
    started = time.perf_counter()
    compiler.compile(main, format="pdf")
    first_ms = (time.perf_counter() - started) * 1000
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        compiler.compile(main, format="pdf")
        times.append((time.perf_counter() - started) * 1000)
    emit({"first_ms": first_ms, "times_ms": times})


def main(argv):
    mode, args = argv[0], argv[1:]
    if mode == "warm":
        warm(args[0], int(args[1]))
    elif mode == "batch":
        batch(int(args[0]), args[1:])
    elif mode == "one":
        one(args[0], args[1])
    elif mode == "measure":
        measure(args[1:] if args and args[0] == "--" else args)
    elif mode == "typst-one":
        typst_one(*args[:4])
    elif mode == "typst-warm":
        typst_warm(args[0], args[1], args[2], int(args[3]))
    else:
        raise SystemExit(f"unknown mode {mode}")


if __name__ == "__main__":
    main(sys.argv[1:])
