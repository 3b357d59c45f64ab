// Version and source revision, set by the build (CMakeLists.txt).
#pragma once

namespace iouring {
inline constexpr const char* kVersion = IOU_VERSION;
inline constexpr const char* kRevision = IOU_REVISION;
}  // namespace iouring
