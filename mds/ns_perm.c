/*
 * ns_perm.c - POSIX permission rules of the namespace: owner/group/other
 * bits with the root bypass, the sticky directory rule, setgid
 * inheritance, and the ownership rules of chmod/chown.  Pure functions on
 * credentials and decoded inodes; any thread.
 */
#include <errno.h>
#include <sys/stat.h>

#include "mds/ns_int.h"

bool ns_cred_in_group(const struct ns_cred *c, uint32_t gid)
{
	if (c->gid == gid)
		return true;
	for (uint32_t i = 0; i < c->ngroups && c->groups; i++)
		if (c->groups[i] == gid)
			return true;
	return false;
}

bool ns_cred_owns(const struct ns_cred *c, const struct ns_attr *a)
{
	return c->uid == 0 || c->uid == a->uid;
}

int ns_perm(const struct ns_cred *c, const struct ns_attr *a, int mask)
{
	uint32_t bits;

	if (c->uid == 0) {
		/* Root may read and write anything; execute needs some x bit,
		 * search of a directory is always allowed. */
		if (!(mask & NS_MAY_EXEC) || S_ISDIR(a->mode) ||
		    (a->mode & (S_IXUSR | S_IXGRP | S_IXOTH)))
			return 0;
		return -EACCES;
	}
	if (c->uid == a->uid)
		bits = (a->mode >> 6) & 7;
	else if (ns_cred_in_group(c, a->gid))
		bits = (a->mode >> 3) & 7;
	else
		bits = a->mode & 7;
	return ((uint32_t)mask & ~bits) ? -EACCES : 0;
}

int ns_attr_access(const struct ns_cred *cred, const struct ns_attr *a, int mask)
{
	return ns_perm(cred, a, mask & (NS_MAY_READ | NS_MAY_WRITE | NS_MAY_EXEC));
}

int ns_perm_sticky(const struct ns_cred *c, const struct ns_attr *dir, uint32_t victim_uid)
{
	if (!(dir->mode & S_ISVTX) || c->uid == 0)
		return 0;
	if (c->uid == dir->uid || c->uid == victim_uid)
		return 0;
	return -EPERM;
}

void ns_perm_init_owner(const struct ns_cred *c, const struct ns_inode *dir, uint32_t *mode,
			uint32_t *uid, uint32_t *gid)
{
	*uid = c->uid;
	if (dir->a.mode & S_ISGID) {
		*gid = dir->a.gid;
		if (S_ISDIR(*mode))
			*mode |= S_ISGID;
	} else {
		*gid = c->gid;
	}
	/* A non-member cannot create a setgid file in someone else's group. */
	if (!S_ISDIR(*mode) && (*mode & S_ISGID) && (*mode & S_IXGRP) && c->uid != 0 &&
	    !ns_cred_in_group(c, *gid))
		*mode &= ~(uint32_t)S_ISGID;
}

void ns_perm_kill_suid(struct ns_inode *in)
{
	in->a.mode &= ~(uint32_t)S_ISUID;
	if (in->a.mode & S_IXGRP)
		in->a.mode &= ~(uint32_t)S_ISGID;
}

/* chown/chgrp: root changes anything; the owner may change the group to
 * one they belong to; nobody else may change either. */
static int ns_perm_chown(const struct ns_cred *c, const struct ns_inode *in,
			 const struct ns_setattr *sa)
{
	bool uid_change = (sa->valid & NS_SET_UID) && sa->uid != in->a.uid;
	bool gid_change = (sa->valid & NS_SET_GID) && sa->gid != in->a.gid;

	if (c->uid == 0)
		return 0;
	if (uid_change)
		return -EPERM;
	if ((sa->valid & (NS_SET_UID | NS_SET_GID)) && c->uid != in->a.uid)
		return -EPERM;
	if (gid_change && !ns_cred_in_group(c, sa->gid))
		return -EPERM;
	return 0;
}

int ns_perm_setattr_ids(const struct ns_cred *c, struct ns_inode *in, const struct ns_setattr *sa)
{
	int rc;

	if ((sa->valid & NS_SET_MODE) && (sa->mode & ~07777u))
		return -EINVAL;
	if ((sa->valid & NS_SET_MODE) && !ns_cred_owns(c, &in->a))
		return -EPERM;
	rc = ns_perm_chown(c, in, sa);
	if (rc)
		return rc;
	if (sa->valid & NS_SET_UID)
		in->a.uid = sa->uid;
	if (sa->valid & NS_SET_GID)
		in->a.gid = sa->gid;
	if (sa->valid & NS_SET_MODE) {
		uint32_t mode = sa->mode;

		if (c->uid != 0 && !ns_cred_in_group(c, in->a.gid))
			mode &= ~(uint32_t)S_ISGID;
		in->a.mode = (in->a.mode & S_IFMT) | mode;
	} else if ((sa->valid & (NS_SET_UID | NS_SET_GID)) && !S_ISDIR(in->a.mode)) {
		ns_perm_kill_suid(in);
	}
	return 0;
}
