//! A filesystem that loses power: a FUSE filesystem held in memory that keeps,
//! beside what its files and directories hold now, what a disk would still
//! hold after the power went, and at a simulated cut goes back to that.
//!
//! What survives a cut follows POSIX at its strictest (as Jepsen's LazyFS
//! does), the rules a program must write to if it is to survive every real
//! filesystem:
//! - a file's bytes and attributes only as of its last `fsync`/`fdatasync`;
//! - a directory's entries (creates, renames, unlinks) only as of the last
//!   `fsync` of that directory; an entry made durable before its file's bytes
//!   were synced names an empty file (what XFS and ext4 without `data=ordered`
//!   can leave);
//! - nothing for `sync_file_range`, `flush` or `close`.
//!
//! Every open file is in direct-I/O mode and every entry and attribute is
//! cached by the kernel for zero seconds, so the page cache never shows a
//! reader bytes the daemon forgot at a cut. Locks are the kernel's own (the
//! filesystem does not ask for lock requests), so `flock` works as on any
//! local filesystem.
#![allow(dead_code, reason = "each test binary uses part of it")]

use fuser::{
    Errno, FileAttr, FileHandle, FileType, Filesystem, FopenFlags, Generation, INodeNo, OpenFlags,
    RenameFlags, ReplyAttr, ReplyCreate, ReplyData, ReplyDirectory, ReplyEmpty, ReplyEntry,
    ReplyOpen, ReplyStatfs, ReplyWrite, Request, TimeOrNow, WriteFlags,
};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

const NO_CACHE: Duration = Duration::ZERO;

#[derive(Clone, Debug)]
struct Node {
    kind: FileType,
    perm: u16,
    uid: u32,
    gid: u32,
    mtime: SystemTime,
    data: Vec<u8>,
    entries: BTreeMap<OsString, u64>,
}

impl Node {
    fn new(kind: FileType, perm: u16, uid: u32, gid: u32) -> Node {
        Node {
            kind,
            perm,
            uid,
            gid,
            mtime: SystemTime::now(),
            data: Vec::new(),
            entries: BTreeMap::new(),
        }
    }

    fn attr(&self, ino: u64) -> FileAttr {
        FileAttr {
            ino: INodeNo(ino),
            size: self.data.len() as u64,
            blocks: (self.data.len() as u64).div_ceil(512),
            atime: self.mtime,
            mtime: self.mtime,
            ctime: self.mtime,
            crtime: self.mtime,
            kind: self.kind,
            perm: self.perm,
            nlink: if self.kind == FileType::Directory {
                2
            } else {
                1
            },
            uid: self.uid,
            gid: self.gid,
            rdev: 0,
            blksize: 4096,
            flags: 0,
        }
    }
}

/// What the filesystem has done, for a test's report.
#[derive(Clone, Copy, Debug, Default)]
pub struct Counts {
    pub file_syncs: u64,
    pub dir_syncs: u64,
    pub cuts: u64,
    /// Bytes written but never synced that cuts threw away.
    pub bytes_lost: u64,
}

struct Disk {
    /// What a reader sees now.
    live: HashMap<u64, Node>,
    /// What survives a cut.
    durable: HashMap<u64, Node>,
    /// Per file, the lowest offset written or truncated since its last sync:
    /// bytes before it are the same in `live` and `durable`.
    dirty_from: HashMap<u64, usize>,
    /// Never reused, also across cuts, so the kernel never mistakes a new
    /// file for one it knew before.
    next_ino: u64,
    counts: Counts,
}

impl Disk {
    fn sync_file(&mut self, ino: u64) {
        let Some(live) = self.live.get(&ino) else {
            return;
        };
        self.counts.file_syncs += 1;
        let durable = self
            .durable
            .entry(ino)
            .or_insert_with(|| Node::new(live.kind, live.perm, live.uid, live.gid));
        let start = self
            .dirty_from
            .remove(&ino)
            .unwrap_or(live.data.len())
            .min(durable.data.len())
            .min(live.data.len());
        durable.data.truncate(start);
        durable.data.extend_from_slice(&live.data[start..]);
        durable.perm = live.perm;
        durable.uid = live.uid;
        durable.gid = live.gid;
        durable.mtime = live.mtime;
    }

    fn sync_dir(&mut self, ino: u64) {
        let Some(live) = self.live.get(&ino) else {
            return;
        };
        self.counts.dir_syncs += 1;
        let entries = live.entries.clone();
        for child in entries.values() {
            if !self.durable.contains_key(child) {
                let c = &self.live[child];
                // The entry is durable, the file's bytes are not.
                self.durable
                    .insert(*child, Node::new(c.kind, c.perm, c.uid, c.gid));
            }
        }
        let live = &self.live[&ino];
        let node = Node {
            entries,
            data: Vec::new(),
            ..live.clone()
        };
        self.durable.insert(ino, node);
    }

    fn cut(&mut self) {
        self.counts.cuts += 1;
        // Only what the root still reaches survives; the rest was unlinked.
        let mut reachable = HashSet::new();
        let mut stack = vec![INodeNo::ROOT.0];
        while let Some(ino) = stack.pop() {
            if reachable.insert(ino) {
                if let Some(n) = self.durable.get(&ino) {
                    stack.extend(n.entries.values().copied());
                }
            }
        }
        self.durable.retain(|ino, _| reachable.contains(ino));
        let live_bytes: u64 = self.live.values().map(|n| n.data.len() as u64).sum();
        let kept: u64 = self.durable.values().map(|n| n.data.len() as u64).sum();
        self.counts.bytes_lost += live_bytes.saturating_sub(kept);
        self.live = self.durable.clone();
        self.dirty_from.clear();
    }

    fn touch(&mut self, ino: u64, from: usize) {
        let d = self.dirty_from.entry(ino).or_insert(from);
        *d = (*d).min(from);
    }

    fn child(&self, parent: u64, name: &OsStr) -> Result<u64, Errno> {
        let dir = self.live.get(&parent).ok_or(Errno::ENOENT)?;
        if dir.kind != FileType::Directory {
            return Err(Errno::ENOTDIR);
        }
        dir.entries.get(name).copied().ok_or(Errno::ENOENT)
    }

    /// A new file or directory `name` in `parent`, owned by the caller, with
    /// `mode` less `umask`.
    fn make(
        &mut self,
        req: &Request,
        parent: u64,
        name: &OsStr,
        kind: FileType,
        (mode, umask): (u32, u32),
    ) -> Result<u64, Errno> {
        let node = Node::new(kind, (mode & !umask & 0o7777) as u16, req.uid(), req.gid());
        let dir = self.live.get(&parent).ok_or(Errno::ENOENT)?;
        if dir.entries.contains_key(name) {
            return Err(Errno::EEXIST);
        }
        let ino = self.next_ino;
        self.next_ino += 1;
        self.live.insert(ino, node);
        let dir = self.live.get_mut(&parent).unwrap();
        dir.entries.insert(name.to_owned(), ino);
        dir.mtime = SystemTime::now();
        Ok(ino)
    }
}

/// The filesystem as fuser serves it.
struct CutFs(Arc<Mutex<Disk>>);

impl CutFs {
    fn disk(&self) -> MutexGuard<'_, Disk> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn reply_entry(reply: ReplyEntry, r: Result<FileAttr, Errno>) {
    match r {
        Ok(a) => reply.entry(&NO_CACHE, &a, Generation(0)),
        Err(e) => reply.error(e),
    }
}

fn reply_empty(reply: ReplyEmpty, r: Result<(), Errno>) {
    match r {
        Ok(()) => reply.ok(),
        Err(e) => reply.error(e),
    }
}

impl Filesystem for CutFs {
    fn lookup(&self, _req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEntry) {
        let d = self.disk();
        reply_entry(reply, d.child(parent.0, name).map(|i| d.live[&i].attr(i)));
    }

    fn getattr(&self, _req: &Request, ino: INodeNo, _fh: Option<FileHandle>, reply: ReplyAttr) {
        match self.disk().live.get(&ino.0) {
            Some(n) => reply.attr(&NO_CACHE, &n.attr(ino.0)),
            None => reply.error(Errno::ENOENT),
        }
    }

    fn setattr(
        &self,
        _req: &Request,
        ino: INodeNo,
        mode: Option<u32>,
        uid: Option<u32>,
        gid: Option<u32>,
        size: Option<u64>,
        _atime: Option<TimeOrNow>,
        _mtime: Option<TimeOrNow>,
        _ctime: Option<SystemTime>,
        _fh: Option<FileHandle>,
        _crtime: Option<SystemTime>,
        _chgtime: Option<SystemTime>,
        _bkuptime: Option<SystemTime>,
        _flags: Option<fuser::BsdFileFlags>,
        reply: ReplyAttr,
    ) {
        let mut d = self.disk();
        let Some(n) = d.live.get_mut(&ino.0) else {
            return reply.error(Errno::ENOENT);
        };
        if let Some(m) = mode {
            n.perm = (m & 0o7777) as u16;
        }
        n.uid = uid.unwrap_or(n.uid);
        n.gid = gid.unwrap_or(n.gid);
        if let Some(s) = size {
            n.data.resize(s as usize, 0);
            n.mtime = SystemTime::now();
        }
        let attr = n.attr(ino.0);
        if let Some(s) = size {
            d.touch(ino.0, s as usize);
        }
        reply.attr(&NO_CACHE, &attr);
    }

    fn mkdir(
        &self,
        req: &Request,
        parent: INodeNo,
        name: &OsStr,
        mode: u32,
        umask: u32,
        reply: ReplyEntry,
    ) {
        let mut d = self.disk();
        let r = d.make(req, parent.0, name, FileType::Directory, (mode, umask));
        reply_entry(reply, r.map(|i| d.live[&i].attr(i)));
    }

    fn create(
        &self,
        req: &Request,
        parent: INodeNo,
        name: &OsStr,
        mode: u32,
        umask: u32,
        _flags: i32,
        reply: ReplyCreate,
    ) {
        let mut d = self.disk();
        match d.make(req, parent.0, name, FileType::RegularFile, (mode, umask)) {
            Ok(i) => reply.created(
                &NO_CACHE,
                &d.live[&i].attr(i),
                Generation(0),
                FileHandle(0),
                FopenFlags::FOPEN_DIRECT_IO,
            ),
            Err(e) => reply.error(e),
        }
    }

    fn unlink(&self, _req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEmpty) {
        let mut d = self.disk();
        let r = d.child(parent.0, name).and_then(|i| {
            if d.live[&i].kind == FileType::Directory {
                return Err(Errno::EISDIR);
            }
            d.live.get_mut(&parent.0).unwrap().entries.remove(name);
            Ok(())
        });
        reply_empty(reply, r);
    }

    fn rmdir(&self, _req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEmpty) {
        let mut d = self.disk();
        let r = d.child(parent.0, name).and_then(|i| {
            let n = &d.live[&i];
            if n.kind != FileType::Directory {
                return Err(Errno::ENOTDIR);
            }
            if !n.entries.is_empty() {
                return Err(Errno::ENOTEMPTY);
            }
            d.live.get_mut(&parent.0).unwrap().entries.remove(name);
            Ok(())
        });
        reply_empty(reply, r);
    }

    fn rename(
        &self,
        _req: &Request,
        parent: INodeNo,
        name: &OsStr,
        newparent: INodeNo,
        newname: &OsStr,
        flags: RenameFlags,
        reply: ReplyEmpty,
    ) {
        let mut d = self.disk();
        let r = (|| {
            if !flags.is_empty() {
                return Err(Errno::EINVAL);
            }
            let ino = d.child(parent.0, name)?;
            if let Ok(old) = d.child(newparent.0, newname) {
                let (from, to) = (&d.live[&ino], &d.live[&old]);
                match (
                    from.kind == FileType::Directory,
                    to.kind == FileType::Directory,
                ) {
                    (true, true) if !to.entries.is_empty() => return Err(Errno::ENOTEMPTY),
                    (true, false) => return Err(Errno::ENOTDIR),
                    (false, true) => return Err(Errno::EISDIR),
                    _ => {}
                }
            }
            d.live.get_mut(&parent.0).unwrap().entries.remove(name);
            d.live
                .get_mut(&newparent.0)
                .ok_or(Errno::ENOENT)?
                .entries
                .insert(newname.to_owned(), ino);
            Ok(())
        })();
        reply_empty(reply, r);
    }

    fn open(&self, _req: &Request, ino: INodeNo, _flags: OpenFlags, reply: ReplyOpen) {
        if self.disk().live.contains_key(&ino.0) {
            reply.opened(FileHandle(0), FopenFlags::FOPEN_DIRECT_IO);
        } else {
            reply.error(Errno::ENOENT);
        }
    }

    fn read(
        &self,
        _req: &Request,
        ino: INodeNo,
        _fh: FileHandle,
        offset: u64,
        size: u32,
        _flags: OpenFlags,
        _lock_owner: Option<fuser::LockOwner>,
        reply: ReplyData,
    ) {
        let d = self.disk();
        let Some(n) = d.live.get(&ino.0) else {
            return reply.error(Errno::ENOENT);
        };
        let start = (offset as usize).min(n.data.len());
        let end = (start + size as usize).min(n.data.len());
        reply.data(&n.data[start..end]);
    }

    fn write(
        &self,
        _req: &Request,
        ino: INodeNo,
        _fh: FileHandle,
        offset: u64,
        data: &[u8],
        _write_flags: WriteFlags,
        _flags: OpenFlags,
        _lock_owner: Option<fuser::LockOwner>,
        reply: ReplyWrite,
    ) {
        let mut d = self.disk();
        let Some(n) = d.live.get_mut(&ino.0) else {
            return reply.error(Errno::ENOENT);
        };
        let start = offset as usize;
        let from = start.min(n.data.len());
        if n.data.len() < start + data.len() {
            n.data.resize(start + data.len(), 0);
        }
        n.data[start..start + data.len()].copy_from_slice(data);
        n.mtime = SystemTime::now();
        d.touch(ino.0, from);
        reply.written(data.len() as u32);
    }

    fn flush(
        &self,
        _req: &Request,
        _ino: INodeNo,
        _fh: FileHandle,
        _lock_owner: fuser::LockOwner,
        reply: ReplyEmpty,
    ) {
        reply.ok();
    }

    fn fsync(
        &self,
        _req: &Request,
        ino: INodeNo,
        _fh: FileHandle,
        _datasync: bool,
        reply: ReplyEmpty,
    ) {
        self.disk().sync_file(ino.0);
        reply.ok();
    }

    fn readdir(
        &self,
        _req: &Request,
        ino: INodeNo,
        _fh: FileHandle,
        offset: u64,
        mut reply: ReplyDirectory,
    ) {
        let d = self.disk();
        let Some(dir) = d.live.get(&ino.0) else {
            return reply.error(Errno::ENOENT);
        };
        let dots = [
            (ino.0, FileType::Directory, OsStr::new(".")),
            (ino.0, FileType::Directory, OsStr::new("..")),
        ];
        let children = dir
            .entries
            .iter()
            .map(|(name, i)| (*i, d.live[i].kind, name.as_os_str()));
        for (k, (i, kind, name)) in dots
            .into_iter()
            .chain(children)
            .enumerate()
            .skip(offset as usize)
        {
            if reply.add(INodeNo(i), k as u64 + 1, kind, name) {
                break;
            }
        }
        reply.ok();
    }

    fn fsyncdir(
        &self,
        _req: &Request,
        ino: INodeNo,
        _fh: FileHandle,
        _datasync: bool,
        reply: ReplyEmpty,
    ) {
        self.disk().sync_dir(ino.0);
        reply.ok();
    }

    fn statfs(&self, _req: &Request, _ino: INodeNo, reply: ReplyStatfs) {
        reply.statfs(1 << 22, 1 << 21, 1 << 21, 1 << 20, 1 << 19, 4096, 255, 4096);
    }

    fn access(&self, _req: &Request, _ino: INodeNo, _mask: fuser::AccessFlags, reply: ReplyEmpty) {
        reply.ok();
    }
}

/// A mounted cut filesystem; unmounted when dropped.
pub struct PowerCutFs {
    disk: Arc<Mutex<Disk>>,
    mountpoint: PathBuf,
    session: Option<fuser::BackgroundSession>,
}

impl PowerCutFs {
    /// Mounts an empty filesystem on `mountpoint` (an empty directory), its
    /// root owned by the caller with mode 0755. An error when the machine
    /// cannot mount FUSE filesystems (no /dev/fuse, no fusermount3).
    pub fn mount(mountpoint: &Path) -> std::io::Result<PowerCutFs> {
        let uid = rustix::process::geteuid().as_raw();
        let gid = rustix::process::getegid().as_raw();
        let root = Node::new(FileType::Directory, 0o755, uid, gid);
        let disk = Disk {
            live: HashMap::from([(INodeNo::ROOT.0, root.clone())]),
            durable: HashMap::from([(INodeNo::ROOT.0, root)]),
            dirty_from: HashMap::new(),
            next_ino: INodeNo::ROOT.0 + 1,
            counts: Counts::default(),
        };
        let disk = Arc::new(Mutex::new(disk));
        let mut cfg = fuser::Config::default();
        cfg.mount_options = vec![
            fuser::MountOption::FSName("powercut".into()),
            fuser::MountOption::Subtype("powercut".into()),
            fuser::MountOption::DefaultPermissions,
        ];
        let session = fuser::spawn_mount(CutFs(disk.clone()), mountpoint, &cfg)?;
        Ok(PowerCutFs {
            disk,
            mountpoint: mountpoint.to_owned(),
            session: Some(session),
        })
    }

    pub fn path(&self) -> &Path {
        &self.mountpoint
    }

    /// The power goes and comes back: every file and directory is as its
    /// last sync left it. Call it only while no process uses the filesystem.
    pub fn cut(&self) {
        self.disk.lock().unwrap().cut();
    }

    pub fn counts(&self) -> Counts {
        self.disk.lock().unwrap().counts
    }
}

impl Drop for PowerCutFs {
    fn drop(&mut self) {
        if let Some(s) = self.session.take() {
            let _ = s.umount_and_join();
        }
    }
}
