/*
 * net_rdma_none.c - built instead of net_rdma.c when RDMA libraries are
 * absent: no RDMA device can be used, so net_select() always picks TCP.
 */
#include "common/net.h"

bool net_rdma_available(void)
{
	return false;
}
