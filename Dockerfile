# io_uring_exporter container image.
#
#   build stage    Debian 12 + the project's build dependencies (scripts/install-deps.sh); compiles the
#                  BPF object and the exporter, then runs the unit tests (`ctest -L unit`): a failing
#                  unit test fails the image build.
#   runtime stage  debian:bookworm-slim + only the shared libraries the binary links (checked with ldd
#                  during the build) + the binary. No compiler, no clang, no bpftool, no headers.
#
# The exporter loads eBPF programs, so it cannot run as a non-root user: it needs CAP_BPF, CAP_PERFMON
# and CAP_SYS_RESOURCE, which a non-root process only gets through file capabilities or ambient sets
# that the container runtimes do not grant reliably. Run it as uid 0 with every other capability
# dropped (see deploy/daemonset.yaml and deploy/README.md). The image itself grants nothing.
#
# Build without a Docker engine: tests/container/build-image.sh (podman, chroot isolation).

ARG DEBIAN_IMAGE=debian:bookworm-slim

FROM ${DEBIAN_IMAGE} AS build
ENV DEBIAN_FRONTEND=noninteractive
WORKDIR /src
# Dependencies first, so editing the sources does not invalidate this (slow) layer.
COPY scripts/install-deps.sh scripts/install-deps.sh
RUN scripts/install-deps.sh \
 && apt-get install -y -qq --no-install-recommends libgtest-dev libgmock-dev >/dev/null \
 && rm -rf /var/lib/apt/lists/*
COPY . .
# A stale build tree from the context would be reused by CMake: .dockerignore keeps it out, and
# a fresh directory is used all the same. The project's default build type (RelWithDebInfo, -O2) is
# kept: it is the one the tests run with (GCC 12 at -O3 raises false -Wrestrict errors under -Werror).
# Only the exporter and the unit-test binary are built (not the fuzz targets, integration tests or
# benchmarks, whose extra dependencies come from `install-deps.sh --test`); `ctest -L unit` then runs
# every test labelled unit.
ARG IOU_REVISION=unknown
RUN cmake -S . -B /build -DIOU_BUILD_TESTS=ON -DIOU_BUILD_BENCH=OFF -DIOU_REVISION="${IOU_REVISION}" \
 && cmake --build /build -j"$(nproc)" --target io_uring_exporter unit_tests \
 && cd /build && ctest -L unit --output-on-failure \
 && install -D -m 0755 /build/io_uring_exporter /out/usr/bin/io_uring_exporter \
 && strip --strip-debug /out/usr/bin/io_uring_exporter

FROM ${DEBIAN_IMAGE} AS runtime
ENV DEBIAN_FRONTEND=noninteractive
# The shared libraries of the binary, by Debian package name (ldd of the binary lists them):
#   libbpf1 libelf1 zlib1g            libbpf and what it needs to parse ELF/BTF
#   libprometheus-cpp-core1.0         metric families and the text serializer
#   libcpp-httplib0.11 (libssl3,      HTTP server; httplib itself links OpenSSL and brotli
#     libbrotli1)
#   libspdlog1.10 libfmt9             logging
#   libyaml-cpp0.7 libcrypt1          configuration parsing and web authentication (present in
#                                     the dependency set; small, kept so the image does not change
#                                     when they are linked)
#   libstdc++6 libgcc-s1 libc6        C++ runtime (already in the base image)
RUN apt-get update -qq \
 && apt-get install -y -qq --no-install-recommends \
      libbpf1 libelf1 zlib1g libprometheus-cpp-core1.0 libcpp-httplib0.11 libssl3 libbrotli1 \
      libspdlog1.10 libfmt9 libyaml-cpp0.7 libcrypt1 libstdc++6 >/dev/null \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/cache/apt/archives/*.deb /var/log/apt /var/log/dpkg.log
COPY --from=build /out/ /
# Fail the build if any library the binary needs is missing from this stage.
RUN ! ldd /usr/bin/io_uring_exporter | grep 'not found' \
 && /usr/bin/io_uring_exporter --version

LABEL org.opencontainers.image.title="io_uring_exporter" \
      org.opencontainers.image.description="Prometheus exporter for Linux io_uring, aggregated in the kernel by eBPF"
EXPOSE 9773
# uid 0 on purpose (see the header); the pod spec drops every capability but BPF, PERFMON, SYS_RESOURCE.
USER 0:0
ENTRYPOINT ["/usr/bin/io_uring_exporter"]
