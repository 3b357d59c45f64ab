#include "exporter/cgroup_path.h"

#include <gtest/gtest.h>

#include <ostream>
#include <string>
#include <tuple>

namespace iouring {
namespace {

using Runtime = WorkloadIdentity::Runtime;
using namespace std::string_literals;

const std::string kUid = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0";
const std::string kUidSystemd = "0f1e2d3c_4b5a_6978_8796_a5b4c3d2e1f0";
const std::string kCid = "3b1f0c9d8e7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c";
const std::string kCid2 = "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff0000";

}  // namespace

// Readable failure messages.
void PrintTo(const WorkloadIdentity& id, std::ostream* os) {
  *os << "{runtime=" << runtime_name(id.runtime) << " pod_uid=\"" << id.pod_uid << "\" container_id=\""
      << id.container_id << "\" qos=\"" << id.qos << "\" is_kubepods=" << id.is_kubepods << "}";
}

namespace {

WorkloadIdentity pod_identity(Runtime runtime, std::string cid, std::string qos) {
  return WorkloadIdentity{runtime, kUid, std::move(cid), std::move(qos), true};
}

WorkloadIdentity docker_identity(std::string cid) {
  return WorkloadIdentity{Runtime::docker, "", std::move(cid), "", false};
}

// ---------------------------------------------------------------------------
// Generated matrix: driver x kubelet root x runtime x QoS x mount prefix x
// trailing slash, plus the pod-level (no container) cgroup of each.

enum class Driver { systemd, cgroupfs };
enum class Root { plain, kind };  // kind: kubelet nested under /kubelet[.slice]

std::string pod_path(Driver driver, Root root, const std::string& qos) {
  const bool qos_level = qos != "guaranteed";
  if (driver == Driver::systemd) {
    const std::string base = root == Root::kind ? "kubelet-kubepods" : "kubepods";
    const std::string qos_base = qos_level ? base + "-" + qos : base;
    std::string p = root == Root::kind ? "/kubelet.slice" : "";
    p += "/" + base + ".slice";
    if (qos_level) p += "/" + qos_base + ".slice";
    return p + "/" + qos_base + "-pod" + kUidSystemd + ".slice";
  }
  std::string p = root == Root::kind ? "/kubelet/kubepods" : "/kubepods";
  if (qos_level) p += "/" + qos;
  return p + "/pod" + kUid;
}

// Container cgroup name and the runtime the path reveals.
std::pair<std::string, Runtime> container_component(Driver driver, Runtime runtime) {
  if (driver == Driver::systemd) {
    switch (runtime) {
      case Runtime::containerd: return {"cri-containerd-" + kCid + ".scope", runtime};
      case Runtime::crio: return {"crio-" + kCid + ".scope", runtime};
      default: return {"docker-" + kCid + ".scope", runtime};
    }
  }
  // cgroupfs: containerd and docker use the bare id, which names no runtime.
  if (runtime == Runtime::crio) return {"crio-" + kCid, Runtime::crio};
  return {kCid, Runtime::unknown};
}

const char* const kPrefixes[] = {
    "",
    "/sys/fs/cgroup",
    "/sys/fs/cgroup/unified",
    "/sys/fs/cgroup/memory",
    "/sys/fs/cgroup/cpu,cpuacct",
    "/system.slice/docker-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.scope",
};

using MatrixParam = std::tuple<Driver, Root, Runtime, std::string, int, bool>;

class CgroupPathMatrix : public ::testing::TestWithParam<MatrixParam> {};

TEST_P(CgroupPathMatrix, ContainerAndPodLevel) {
  const auto& [driver, root, runtime, qos, prefix_index, trailing_slash] = GetParam();
  const std::string prefix = kPrefixes[prefix_index];
  const std::string tail = trailing_slash ? "/" : "";
  const std::string pod = prefix + pod_path(driver, root, qos);
  const auto [component, expected_runtime] = container_component(driver, runtime);

  const std::string container = pod + "/" + component + tail;
  EXPECT_EQ(parse_cgroup_path(container), pod_identity(expected_runtime, kCid, qos)) << container;
  EXPECT_EQ(parse_cgroup_path(pod + tail), pod_identity(Runtime::unknown, "", qos)) << pod;
}

std::string matrix_name(const ::testing::TestParamInfo<MatrixParam>& info) {
  const auto& [driver, root, runtime, qos, prefix_index, trailing_slash] = info.param;
  return std::string(driver == Driver::systemd ? "systemd" : "cgroupfs") +
         (root == Root::kind ? "_kind_" : "_") + std::string(runtime_name(runtime)) + "_" + qos +
         "_prefix" + std::to_string(prefix_index) + (trailing_slash ? "_slash" : "");
}

INSTANTIATE_TEST_SUITE_P(
    AllLayouts, CgroupPathMatrix,
    ::testing::Combine(::testing::Values(Driver::systemd, Driver::cgroupfs),
                       ::testing::Values(Root::plain, Root::kind),
                       ::testing::Values(Runtime::containerd, Runtime::crio, Runtime::docker),
                       ::testing::Values("guaranteed"s, "burstable"s, "besteffort"s),
                       ::testing::Range(0, static_cast<int>(std::size(kPrefixes))),
                       ::testing::Bool()),
    matrix_name);

// ---------------------------------------------------------------------------
// Literal, real-world shaped paths.

TEST(CgroupPath, SystemdContainerdBurstable) {
  EXPECT_EQ(parse_cgroup_path("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" +
                              kUidSystemd + ".slice/cri-containerd-" + kCid + ".scope"),
            pod_identity(Runtime::containerd, kCid, "burstable"));
}

TEST(CgroupPath, SystemdCrioGuaranteedUnderSysFs) {
  EXPECT_EQ(parse_cgroup_path("/sys/fs/cgroup/kubepods.slice/kubepods-pod" + kUidSystemd +
                              ".slice/crio-" + kCid + ".scope/"),
            pod_identity(Runtime::crio, kCid, "guaranteed"));
}

TEST(CgroupPath, CgroupfsBesteffortV1Controller) {
  EXPECT_EQ(parse_cgroup_path("/sys/fs/cgroup/cpu,cpuacct/kubepods/besteffort/pod" + kUid + "/" + kCid),
            pod_identity(Runtime::unknown, kCid, "besteffort"));
}

TEST(CgroupPath, CrioConmonIsPodLevel) {
  const auto expected = pod_identity(Runtime::crio, "", "burstable");
  EXPECT_EQ(parse_cgroup_path("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" +
                              kUidSystemd + ".slice/crio-conmon-" + kCid + ".scope"),
            expected);
  EXPECT_EQ(parse_cgroup_path("/kubepods/burstable/pod" + kUid + "/crio-conmon-" + kCid), expected);
}

TEST(CgroupPath, NestedRuncSystemdPath) {
  EXPECT_EQ(parse_cgroup_path("/system.slice/containerd.service/kubepods-burstable-pod" + kUidSystemd +
                              ".slice:cri-containerd:" + kCid),
            pod_identity(Runtime::containerd, kCid, "burstable"));
  EXPECT_EQ(parse_cgroup_path("/system.slice/k3s.service/kubepods-pod" + kUidSystemd + ".slice:crio:" + kCid),
            pod_identity(Runtime::crio, kCid, "guaranteed"));
  EXPECT_EQ(parse_cgroup_path("/system.slice/docker.service/kubepods-besteffort-pod" + kUidSystemd +
                              ".slice:docker:" + kCid + "/"),
            pod_identity(Runtime::docker, kCid, "besteffort"));
}

TEST(CgroupPath, DockerOutsideKubernetes) {
  EXPECT_EQ(parse_cgroup_path("/system.slice/docker-" + kCid + ".scope"), docker_identity(kCid));
  EXPECT_EQ(parse_cgroup_path("/docker/" + kCid), docker_identity(kCid));
  EXPECT_EQ(parse_cgroup_path("/sys/fs/cgroup/memory/docker/" + kCid + "/"), docker_identity(kCid));
  // Sub-cgroups inside the container are attributed to it.
  EXPECT_EQ(parse_cgroup_path("/system.slice/docker-" + kCid + ".scope/init.scope"), docker_identity(kCid));
}

TEST(CgroupPath, OutermostDockerWins) {
  EXPECT_EQ(parse_cgroup_path("/docker/" + kCid + "/docker/" + kCid2), docker_identity(kCid));
  EXPECT_EQ(parse_cgroup_path("/system.slice/docker-" + kCid + ".scope/docker-" + kCid2 + ".scope"),
            docker_identity(kCid));
}

TEST(CgroupPath, PodInsideDockerWinsOverDocker) {
  // kind on cgroup v1 / cgroupfs: node container, then the kubelet's tree.
  EXPECT_EQ(parse_cgroup_path("/docker/" + kCid2 + "/kubelet/kubepods/burstable/pod" + kUid + "/" + kCid),
            pod_identity(Runtime::unknown, kCid, "burstable"));
}

TEST(CgroupPath, SubCgroupsOfContainerBelongToContainer) {
  const std::string scope = "/kubepods.slice/kubepods-pod" + kUidSystemd + ".slice/crio-" + kCid + ".scope";
  const auto expected = pod_identity(Runtime::crio, kCid, "guaranteed");
  EXPECT_EQ(parse_cgroup_path(scope + "/container"), expected);
  EXPECT_EQ(parse_cgroup_path(scope + "/init.scope/"), expected);
  // Names a container can create below itself cannot re-label it.
  EXPECT_EQ(parse_cgroup_path(scope + "/kubepods.slice/kubepods-pod" + "11111111_2222_3333_4444_555555555555" +
                              ".slice/cri-containerd-" + kCid2 + ".scope"),
            expected);
  EXPECT_EQ(parse_cgroup_path(scope + "/docker/" + kCid2), expected);
}

TEST(CgroupPath, RepeatedAndTrailingSlashesAreIgnored) {
  EXPECT_EQ(parse_cgroup_path("//kubepods//pod" + kUid + "///" + kCid + "//"),
            pod_identity(Runtime::unknown, kCid, "guaranteed"));
}

// ---------------------------------------------------------------------------
// Not a workload.

TEST(CgroupPath, NonWorkloadPathsAreRejected) {
  for (const char* path : {
           "", "/", "//", "/init.scope", "/user.slice/user-1000.slice/session-3.scope",
           "/user.slice/user-1000.slice/user@1000.service/app.slice/dbus.service",
           "/system.slice/containerd.service", "/system.slice/docker.service", "/kubepods.slice",
           "/kubepods.slice/kubepods-burstable.slice/", "/kubepods", "/kubepods/besteffort",
           "/kubelet.slice/kubelet-kubepods.slice", "/docker", "/docker/", "/sys/fs/cgroup",
       }) {
    EXPECT_EQ(parse_cgroup_path(path), std::nullopt) << path;
  }
}

TEST(CgroupPath, RelativePathIsRejected) {
  EXPECT_EQ(parse_cgroup_path("kubepods/pod" + kUid + "/" + kCid), std::nullopt);
  EXPECT_EQ(parse_cgroup_path("0::/kubepods/pod" + kUid + "/" + kCid), std::nullopt);
}

// ---------------------------------------------------------------------------
// Malformed pod UIDs.

TEST(CgroupPath, MalformedPodUidsAreRejected) {
  const std::string bad_uids[] = {
      "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f",      // 35 chars
      "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f00",    // 37 chars
      "0F1E2D3C-4B5A-6978-8796-A5B4C3D2E1F0",     // upper-case
      "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1fg",     // non-hex
      "0f1e2d3c4-b5a-6978-8796-a5b4c3d2e1f0",     // dash misplaced
      "0f1e2d3c-4b5a-6978-8796a-5b4c3d2e1f0",     // dash misplaced
      "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"s.replace(8, 1, "x"),
      "0f1e2d3c0f1e2d3c0f1e2d3c0f1e2d3c",         // 32 hex (static-pod md5 UID)
      "0f1e2d3c-4b5a_6978-8796-a5b4c3d2e1f0",     // mixed separators
      "------------------------------------",
      "",
  };
  for (const std::string& uid : bad_uids) {
    std::string systemd_uid = uid;  // swap separators, so mixed stays mixed
    for (char& c : systemd_uid) c = c == '-' ? '_' : c == '_' ? '-' : c;
    for (const std::string& path : {
             "/kubepods/pod" + uid + "/" + kCid,
             "/kubepods/burstable/pod" + uid,
             "/kubepods.slice/kubepods-pod" + systemd_uid + ".slice/cri-containerd-" + kCid + ".scope",
             "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" + systemd_uid + ".slice",
             "/system.slice/containerd.service/kubepods-pod" + systemd_uid + ".slice:cri-containerd:" + kCid,
         }) {
      EXPECT_EQ(parse_cgroup_path(path), std::nullopt) << path;
    }
  }
}

TEST(CgroupPath, SeparatorMustMatchDriver) {
  // systemd slices escape '-' as '_'; cgroupfs keeps dashes.
  EXPECT_EQ(parse_cgroup_path("/kubepods.slice/kubepods-pod" + kUid + ".slice"), std::nullopt);
  EXPECT_EQ(parse_cgroup_path("/kubepods/pod" + kUidSystemd), std::nullopt);
}

TEST(CgroupPath, MalformedPodSliceNamesAreRejected) {
  for (const std::string& path : {
           "/kubepods.slice/-kubepods-pod" + kUidSystemd + ".slice",
           "/kubepods.slice/xkubepods-pod" + kUidSystemd + ".slice",
           "/kubepods.slice/kubepods-guaranteed-pod" + kUidSystemd + ".slice",
           "/kubepods.slice/kubepods-burstable-pod" + kUidSystemd,
           "/kubepods.slice/kubepods-burstable-pod" + kUidSystemd + ".scope",
           "/kubepods.slice/kubepods-burstablepod" + kUidSystemd + ".slice",
           "/kubepods.slice/kubepods-pod-" + kUidSystemd + ".slice",
           "/kubepods/guaranteed/pod" + kUid,
           "/kubepods/burstable/burstable/pod" + kUid,
           "/kubepods/burstable/Pod" + kUid,
           "/notkubepods/pod" + kUid + "/" + kCid,
           "/pod" + kUid + "/" + kCid,
       }) {
    EXPECT_EQ(parse_cgroup_path(path), std::nullopt) << path;
  }
}

// ---------------------------------------------------------------------------
// Malformed container ids and children of a valid pod.

TEST(CgroupPath, MalformedContainerIdsUnderPodAreRejected) {
  const std::string bad_ids[] = {
      kCid.substr(1),                     // 63
      kCid + "0",                         // 65
      "3B1F0C9D8E7A6B5C4D3E2F1A0B9C8D7E6F5A4B3C2D1E0F9A8B7C6D5E4F3A2B1C",  // upper-case
      std::string(63, 'a') + "g",         // non-hex
      std::string(63, 'a') + "-",
  };
  const std::string systemd_pod = "/kubepods.slice/kubepods-pod" + kUidSystemd + ".slice/";
  const std::string cgroupfs_pod = "/kubepods/burstable/pod" + kUid + "/";
  for (const std::string& id : bad_ids) {
    for (const std::string& path : {
             systemd_pod + "cri-containerd-" + id + ".scope", systemd_pod + "crio-" + id + ".scope",
             systemd_pod + "docker-" + id + ".scope", systemd_pod + "crio-conmon-" + id + ".scope",
             cgroupfs_pod + id, cgroupfs_pod + "crio-" + id, cgroupfs_pod + "crio-conmon-" + id,
             "/system.slice/containerd.service/kubepods-pod" + kUidSystemd + ".slice:cri-containerd:" + id,
         }) {
      EXPECT_EQ(parse_cgroup_path(path), std::nullopt) << path;
    }
  }
}

TEST(CgroupPath, WrongContainerShapeUnderPodIsRejected) {
  const std::string systemd_pod = "/kubepods.slice/kubepods-pod" + kUidSystemd + ".slice/";
  const std::string cgroupfs_pod = "/kubepods/pod" + kUid + "/";
  for (const std::string& path : {
           systemd_pod + kCid,                                   // cgroupfs shape under systemd
           systemd_pod + "cri-containerd-" + kCid,               // missing .scope
           systemd_pod + "cri-containerd-" + kCid + ".slice",
           systemd_pod + "cri-containerd-" + kCid + ".scope.scope",
           systemd_pod + "containerd-" + kCid + ".scope",
           systemd_pod + "libpod-" + kCid + ".scope",
           systemd_pod + "foo",
           systemd_pod + "cri-containerd-.scope",
           systemd_pod + "crio-conmon-.scope",
           cgroupfs_pod + "cri-containerd-" + kCid + ".scope",   // systemd shape under cgroupfs
           cgroupfs_pod + "docker-" + kCid,
           cgroupfs_pod + "foo",
           cgroupfs_pod + "crio-",
       }) {
    EXPECT_EQ(parse_cgroup_path(path), std::nullopt) << path;
  }
}

TEST(CgroupPath, MalformedNestedRuncPathsAreRejected) {
  const std::string pod = "/system.slice/containerd.service/kubepods-pod" + kUidSystemd + ".slice";
  for (const std::string& path : {
           pod + ":containerd:" + kCid, pod + ":cri-containerd" + kCid, pod + "::" + kCid,
           pod + ":cri-containerd:" + kCid + ":x", pod + ":cri-containerd:", pod + ":crio-conmon:" + kCid,
           "/system.slice/containerd.service/kubepods.slice:cri-containerd:" + kCid,
           "/system.slice/containerd.service/:cri-containerd:" + kCid,
       }) {
    EXPECT_EQ(parse_cgroup_path(path), std::nullopt) << path;
  }
}

TEST(CgroupPath, MalformedDockerPathsAreRejected) {
  for (const std::string& path : {
           "/docker/" + kCid.substr(1), "/docker/" + kCid + "0", "/docker/docker-" + kCid,
           "/system.slice/docker-" + kCid + ".mount", "/system.slice/docker-" + kCid,
           "/system.slice/docker-" + kCid.substr(1) + ".scope", "/" + kCid,
           "/system.slice/cri-containerd-" + kCid + ".scope",  // containerd outside a pod: not ours
       }) {
    EXPECT_EQ(parse_cgroup_path(path), std::nullopt) << path;
  }
}

// ---------------------------------------------------------------------------
// Hostile input: control bytes, traversal, size.

TEST(CgroupPath, EmbeddedControlBytesAreRejected) {
  const std::string valid = "/kubepods/pod" + kUid + "/" + kCid;
  ASSERT_TRUE(parse_cgroup_path(valid));
  for (std::size_t pos : {std::size_t{0}, std::size_t{1}, std::size_t{10}, valid.size() / 2, valid.size()}) {
    for (char c : {'\0', '\n', '\t', '\x7f'}) {
      std::string path = valid;
      path.insert(pos, 1, c);
      EXPECT_EQ(parse_cgroup_path(path), std::nullopt) << "pos " << pos << " byte " << int(c);
    }
  }
  // Control bytes in components the matcher would otherwise skip or ignore.
  for (char c : {'\0', '\n', '\x1b', '\x7f'}) {
    EXPECT_EQ(parse_cgroup_path("/sys" + std::string(1, c) + valid), std::nullopt);
    EXPECT_EQ(parse_cgroup_path("/" + std::string(1, c) + valid), std::nullopt);
    EXPECT_EQ(parse_cgroup_path(valid + "/" + std::string(1, c)), std::nullopt);
  }
  // A NUL that would truncate the id to a valid-looking C string.
  EXPECT_EQ(parse_cgroup_path(valid + "\0/junk"s), std::nullopt);
}

TEST(CgroupPath, DotComponentsAreRejected) {
  const std::string pod = "/kubepods/pod" + kUid;
  for (const std::string& path : {
           "/kubepods/../kubepods/pod" + kUid + "/" + kCid, pod + "/../pod" + kUid + "/" + kCid,
           pod + "/./" + kCid, pod + "/" + kCid + "/..", pod + "/" + kCid + "/.", "/../../" + pod.substr(1),
           "/.."s, "/."s,
       }) {
    EXPECT_EQ(parse_cgroup_path(path), std::nullopt) << path;
  }
  // Names that merely contain dots are fine.
  EXPECT_TRUE(parse_cgroup_path("/...../kubepods/pod" + kUid));
}

TEST(CgroupPath, NonAsciiBytesDoNotConfuseTheParser) {
  const std::string pod = "/kubepods/pod" + kUid;
  EXPECT_EQ(parse_cgroup_path(pod + "/\xff\xfe"), std::nullopt);
  EXPECT_EQ(parse_cgroup_path("/\xe2\x80\x8b" + pod.substr(1)), std::nullopt);  // "\u200bkubepods"
  EXPECT_EQ(parse_cgroup_path("/\xc3\xa9t\xc3\xa9" + pod), pod_identity(Runtime::unknown, "", "guaranteed"));
}

TEST(CgroupPath, LengthIsBounded) {
  const std::string suffix = "/kubepods/pod" + kUid + "/" + kCid;
  std::string at_limit = "/" + std::string(kMaxCgroupPathLength - suffix.size() - 1, 'a') + suffix;
  ASSERT_EQ(at_limit.size(), kMaxCgroupPathLength);
  EXPECT_EQ(parse_cgroup_path(at_limit), pod_identity(Runtime::unknown, kCid, "guaranteed"));
  EXPECT_EQ(parse_cgroup_path("/a" + at_limit), std::nullopt);
}

TEST(CgroupPath, HugeInputsAreRejected) {
  const std::size_t mb = 1 << 20;
  EXPECT_EQ(parse_cgroup_path(std::string(mb, '/')), std::nullopt);
  EXPECT_EQ(parse_cgroup_path("/" + std::string(mb, 'a')), std::nullopt);
  EXPECT_EQ(parse_cgroup_path(std::string(mb, 'a') + "/kubepods/pod" + kUid + "/" + kCid), std::nullopt);
  std::string deep;
  while (deep.size() < mb) deep += "/kubepods/pod" + kUid;
  EXPECT_EQ(parse_cgroup_path(deep), std::nullopt);
}

TEST(CgroupPath, ManyComponentsWithinLimit) {
  std::string path;
  while (path.size() < kMaxCgroupPathLength - 200) path += "/a";
  EXPECT_EQ(parse_cgroup_path(path + "/docker/" + kCid), docker_identity(kCid));
}

TEST(CgroupPath, IsDeterministicAndDoesNotAliasInput) {
  std::string path = "/kubepods.slice/kubepods-pod" + kUidSystemd + ".slice/cri-containerd-" + kCid + ".scope";
  const auto first = parse_cgroup_path(path);
  path.assign(path.size(), 'x');  // result must own its strings
  ASSERT_TRUE(first);
  EXPECT_EQ(first->pod_uid, kUid);
  EXPECT_EQ(first->container_id, kCid);
  path = "/kubepods.slice/kubepods-pod" + kUidSystemd + ".slice/cri-containerd-" + kCid + ".scope";
  EXPECT_EQ(parse_cgroup_path(path), first);
}

// ---------------------------------------------------------------------------

TEST(RuntimeName, NamesEveryRuntime) {
  EXPECT_EQ(runtime_name(Runtime::unknown), "unknown");
  EXPECT_EQ(runtime_name(Runtime::containerd), "containerd");
  EXPECT_EQ(runtime_name(Runtime::crio), "crio");
  EXPECT_EQ(runtime_name(Runtime::docker), "docker");
  EXPECT_EQ(runtime_name(static_cast<Runtime>(42)), "unknown");
}

}  // namespace
}  // namespace iouring
