/*
 * vhost-user wire protocol: message numbers and payload layouts.
 *
 * Written from the public specification (QEMU docs/interop/vhost-user.rst).
 * No C library for vhost-user is packaged in Debian, so tessera defines the
 * protocol itself; only what tessera's backend (tessera-vmd) and frontend
 * (tests, benchmarks, the agent's loopback transport) use is here.
 *
 * A message is a 12-byte header {u32 request, u32 flags, u32 size} followed
 * by `size` payload bytes, in the host's byte order, on a UNIX stream
 * socket. File descriptors travel as SCM_RIGHTS ancillary data with the
 * message. flags: bits 0-1 version (1), bit 2 reply, bit 3 need_reply
 * (with the REPLY_ACK protocol feature: the backend answers a u64 status,
 * 0 = success).
 */
#ifndef TESSERA_COMMON_VHOST_USER_PROTO_H
#define TESSERA_COMMON_VHOST_USER_PROTO_H

#include <stdint.h>

enum tessera_vhost_user_request {
	TESSERA_VHOST_USER_NONE = 0,
	TESSERA_VHOST_USER_GET_FEATURES = 1, /* reply: u64 */
	TESSERA_VHOST_USER_SET_FEATURES = 2, /* u64 */
	TESSERA_VHOST_USER_SET_OWNER = 3,
	TESSERA_VHOST_USER_RESET_OWNER = 4, /* deprecated */
	TESSERA_VHOST_USER_SET_MEM_TABLE = 5, /* memory table, one fd per region */
	TESSERA_VHOST_USER_SET_LOG_BASE = 6,
	TESSERA_VHOST_USER_SET_LOG_FD = 7,
	TESSERA_VHOST_USER_SET_VRING_NUM = 8, /* vring state */
	TESSERA_VHOST_USER_SET_VRING_ADDR = 9, /* vring addr */
	TESSERA_VHOST_USER_SET_VRING_BASE = 10, /* vring state */
	TESSERA_VHOST_USER_GET_VRING_BASE = 11, /* vring state, reply: state */
	TESSERA_VHOST_USER_SET_VRING_KICK = 12, /* u64 index | NOFD, fd */
	TESSERA_VHOST_USER_SET_VRING_CALL = 13, /* u64 index | NOFD, fd */
	TESSERA_VHOST_USER_SET_VRING_ERR = 14, /* u64 index | NOFD, fd */
	TESSERA_VHOST_USER_GET_PROTOCOL_FEATURES = 15, /* reply: u64 */
	TESSERA_VHOST_USER_SET_PROTOCOL_FEATURES = 16, /* u64 */
	TESSERA_VHOST_USER_GET_QUEUE_NUM = 17, /* reply: u64 */
	TESSERA_VHOST_USER_SET_VRING_ENABLE = 18, /* vring state */
	TESSERA_VHOST_USER_SEND_RARP = 19,
	TESSERA_VHOST_USER_NET_SET_MTU = 20,
	TESSERA_VHOST_USER_SET_BACKEND_REQ_FD = 21, /* fd (a.k.a. SLAVE_REQ_FD) */
	TESSERA_VHOST_USER_IOTLB_MSG = 22,
	TESSERA_VHOST_USER_SET_VRING_ENDIAN = 23,
	TESSERA_VHOST_USER_GET_CONFIG = 24, /* config, reply: config */
	TESSERA_VHOST_USER_SET_CONFIG = 25, /* config */
	TESSERA_VHOST_USER_CREATE_CRYPTO_SESSION = 26,
	TESSERA_VHOST_USER_CLOSE_CRYPTO_SESSION = 27,
	TESSERA_VHOST_USER_POSTCOPY_ADVISE = 28,
	TESSERA_VHOST_USER_POSTCOPY_LISTEN = 29,
	TESSERA_VHOST_USER_POSTCOPY_END = 30,
	TESSERA_VHOST_USER_GET_INFLIGHT_FD = 31,
	TESSERA_VHOST_USER_SET_INFLIGHT_FD = 32,
	TESSERA_VHOST_USER_GPU_SET_SOCKET = 33, /* fd */
	TESSERA_VHOST_USER_RESET_DEVICE = 34,
	TESSERA_VHOST_USER_VRING_KICK = 35,
	TESSERA_VHOST_USER_GET_MAX_MEM_SLOTS = 36, /* reply: u64 */
	TESSERA_VHOST_USER_ADD_MEM_REG = 37,
	TESSERA_VHOST_USER_REM_MEM_REG = 38,
	TESSERA_VHOST_USER_SET_STATUS = 39,
	TESSERA_VHOST_USER_GET_STATUS = 40,
};

#define TESSERA_VHOST_USER_VERSION 0x1
#define TESSERA_VHOST_USER_VERSION_MASK 0x3
#define TESSERA_VHOST_USER_FLAG_REPLY (1u << 2)
#define TESSERA_VHOST_USER_FLAG_NEED_REPLY (1u << 3)

/* Virtio feature bit 30 (unused by virtio) announces protocol features. */
#define TESSERA_VHOST_USER_F_PROTOCOL_FEATURES 30

enum tessera_vhost_user_protocol_feature {
	TESSERA_VHOST_USER_PROTOCOL_F_MQ = 0,
	TESSERA_VHOST_USER_PROTOCOL_F_LOG_SHMFD = 1,
	TESSERA_VHOST_USER_PROTOCOL_F_RARP = 2,
	TESSERA_VHOST_USER_PROTOCOL_F_REPLY_ACK = 3,
	TESSERA_VHOST_USER_PROTOCOL_F_MTU = 4,
	TESSERA_VHOST_USER_PROTOCOL_F_BACKEND_REQ = 5,
	TESSERA_VHOST_USER_PROTOCOL_F_CROSS_ENDIAN = 6,
	TESSERA_VHOST_USER_PROTOCOL_F_CRYPTO_SESSION = 7,
	TESSERA_VHOST_USER_PROTOCOL_F_PAGEFAULT = 8,
	TESSERA_VHOST_USER_PROTOCOL_F_CONFIG = 9,
	TESSERA_VHOST_USER_PROTOCOL_F_BACKEND_SEND_FD = 10,
	TESSERA_VHOST_USER_PROTOCOL_F_HOST_NOTIFIER = 11,
	TESSERA_VHOST_USER_PROTOCOL_F_INFLIGHT_SHMFD = 12,
	TESSERA_VHOST_USER_PROTOCOL_F_RESET_DEVICE = 13,
	TESSERA_VHOST_USER_PROTOCOL_F_INBAND_NOTIFICATIONS = 14,
	TESSERA_VHOST_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS = 15,
	TESSERA_VHOST_USER_PROTOCOL_F_STATUS = 16,
};

/* SET_VRING_KICK/CALL/ERR payload: bits 0-7 queue index, bit 8 "no fd" */
#define TESSERA_VHOST_USER_VRING_INDEX_MASK 0xffu
#define TESSERA_VHOST_USER_VRING_NOFD (1u << 8)

/* SET_VRING_ADDR flags: bit 0 asks for used-ring write logging */
#define TESSERA_VHOST_USER_VRING_F_LOG (1u << 0)

/* SET_CONFIG flags */
#define TESSERA_VHOST_USER_CONFIG_FRONTEND 0
#define TESSERA_VHOST_USER_CONFIG_MIGRATION 1

#define TESSERA_VHOST_USER_MAX_REGIONS 8
#define TESSERA_VHOST_USER_MAX_CONFIG_SIZE 256
/* Most file descriptors one message may carry. */
#define TESSERA_VHOST_USER_MAX_FDS 8
/* Largest payload accepted (the largest message used is ~270 bytes). */
#define TESSERA_VHOST_USER_MAX_PAYLOAD 1024

struct tessera_vhost_user_header {
	uint32_t request;
	uint32_t flags;
	uint32_t size;
};

struct tessera_vhost_user_vring_state {
	uint32_t index;
	uint32_t num;
};

struct tessera_vhost_user_vring_addr {
	uint32_t index;
	uint32_t flags;
	uint64_t desc; /* VMM virtual addresses */
	uint64_t used;
	uint64_t avail;
	uint64_t log; /* guest physical, for logging only */
};

struct tessera_vhost_user_memory_region {
	uint64_t guest_addr;
	uint64_t size;
	uint64_t user_addr;
	uint64_t mmap_offset;
};

struct tessera_vhost_user_memory {
	uint32_t nregions;
	uint32_t padding;
	struct tessera_vhost_user_memory_region regions[TESSERA_VHOST_USER_MAX_REGIONS];
};

struct tessera_vhost_user_config {
	uint32_t offset;
	uint32_t size;
	uint32_t flags;
	uint8_t payload[TESSERA_VHOST_USER_MAX_CONFIG_SIZE];
};

#define TESSERA_VHOST_USER_HEADER_SIZE 12
#define TESSERA_VHOST_USER_MEMORY_HEADER_SIZE 8
#define TESSERA_VHOST_USER_CONFIG_HEADER_SIZE 12

union tessera_vhost_user_payload {
	uint64_t u64;
	struct tessera_vhost_user_vring_state state;
	struct tessera_vhost_user_vring_addr addr;
	struct tessera_vhost_user_memory memory;
	struct tessera_vhost_user_config config;
	uint8_t raw[TESSERA_VHOST_USER_MAX_PAYLOAD];
};

/* A message in memory. On the wire the payload follows the 12-byte header
 * directly: send and receive hdr and payload as two iovecs. */
struct tessera_vhost_user_msg {
	struct tessera_vhost_user_header hdr;
	union tessera_vhost_user_payload payload;
};

_Static_assert(sizeof(struct tessera_vhost_user_header) ==
	TESSERA_VHOST_USER_HEADER_SIZE, "vhost-user header layout");
_Static_assert(sizeof(struct tessera_vhost_user_vring_addr) == 40,
	"vhost-user vring addr layout");
_Static_assert(sizeof(struct tessera_vhost_user_memory_region) == 32,
	"vhost-user memory region layout");
_Static_assert(sizeof(struct tessera_vhost_user_memory) == 8 + 8 * 32,
	"vhost-user memory table layout");
_Static_assert(sizeof(struct tessera_vhost_user_config) ==
	TESSERA_VHOST_USER_CONFIG_HEADER_SIZE + TESSERA_VHOST_USER_MAX_CONFIG_SIZE,
	"vhost-user config layout");

const char *tessera_vhost_user_request_name(uint32_t request);

#endif
