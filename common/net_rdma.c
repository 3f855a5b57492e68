/*
 * net_rdma.c - RDMA support, built when libibverbs and librdmacm are found.
 * For now only the device probe that net_select() uses to decide between
 * RDMA and TCP; the verbs transport will join this file.  Stateless.
 */
#include "common/net.h"

#include <infiniband/verbs.h>

bool net_rdma_available(void)
{
	struct ibv_device **list;
	int n = 0;

	list = ibv_get_device_list(&n);
	if (!list)
		return false;
	ibv_free_device_list(list);
	return n > 0;
}
