//! The disk of one node: its namespace as operations see it and as a crash
//! would find it, its files, what is pending, and the operations the calls
//! make of them (resolve a path, create, remove, sync, open).

use super::*;

/// One node's disk.
#[derive(Default)]
pub(crate) struct Disk {
    /// What operations see.
    pub(super) current: Namespace,
    /// What a crash starts from.
    pub(super) durable: Namespace,
    /// Directories made so far (each gets the next number).
    pub(super) dirs_made: DirId,
    pub(super) inodes: Vec<Inode>,
    pub(super) pending_meta: Vec<MetaOp>,
    /// The probability that an operation fails with `EIO`, when set (a
    /// nemesis's burst, `set_error_rate`); `None`: `Config::disk_errors`.
    pub(crate) error_rate: Option<f64>,
}

impl Disk {
    /// True for a disk nothing was done to (as `Disk::default()` makes it).
    pub(crate) fn is_empty(&self) -> bool {
        // Every field named, so a new one cannot be forgotten here.
        let Disk {
            current,
            durable,
            dirs_made,
            inodes,
            pending_meta,
            error_rate,
        } = self;
        current.dirs.is_empty()
            && current.places.is_empty()
            && current.times.is_empty()
            && durable.dirs.is_empty()
            && durable.places.is_empty()
            && durable.times.is_empty()
            && *dirs_made == 0
            && inodes.is_empty()
            && pending_meta.is_empty()
            && error_rate.is_none()
    }
}

impl Disk {
    /// What the (normalised) `path` names.
    pub(super) fn resolve(&self, path: &Path) -> io::Result<Entry> {
        let mut at = Entry::Dir(ROOT);
        for component in path.components() {
            let Component::Normal(name) = component else {
                continue;
            };
            let Entry::Dir(dir) = at else {
                return Err(os_error(ENOTDIR));
            };
            at = self
                .current
                .get(dir, name)
                .ok_or_else(|| os_error(ENOENT))?;
        }
        Ok(at)
    }

    /// The directory that holds the (normalised) `path`, and its name
    /// there; `None` for `/`. The directory must exist (`NotFound`) and be
    /// one (`NotADirectory`).
    pub(super) fn parent_of(&self, path: &Path) -> io::Result<Option<(DirId, OsString)>> {
        let (Some(parent), Some(name)) = (path.parent(), path.file_name()) else {
            return Ok(None);
        };
        match self.resolve(parent)? {
            Entry::Dir(dir) => Ok(Some((dir, name.to_os_string()))),
            Entry::File(_) => Err(os_error(ENOTDIR)),
        }
    }

    pub(super) fn sync_inode_data(&mut self, inode: usize) {
        let inode = &mut self.inodes[inode];
        inode.pending.clear();
        inode.durable = inode.current.clone();
        inode.durable_times = inode.times;
    }

    /// Makes the pending namespace changes that `pick` selects durable, in
    /// order.
    pub(super) fn persist(&mut self, mut pick: impl FnMut(&MetaOp) -> bool) {
        while let Some(position) = self.pending_meta.iter().position(&mut pick) {
            self.persist_at(position);
        }
    }

    /// Makes pending change `position` durable, after what it needs: the
    /// directory its new name is in (the durable namespace stays a tree,
    /// as a journaled file system's does) and, for a rename, the change
    /// that gave what it renames its name (a creation or a rename).
    pub(super) fn persist_at(&mut self, position: usize) {
        let op = self.pending_meta.remove(position);
        if let MetaOp::Rename { entry, .. } = &op {
            let source = self.pending_meta[..position]
                .iter()
                .rposition(|earlier| earlier.names() == Some(*entry));
            if let Some(source) = source {
                self.persist_at(source);
            }
        }
        if let Some(dir) = op.target_dir() {
            self.persist_dir(dir);
        }
        op.apply(&mut self.durable);
    }

    /// Makes `dir` durably reachable from `/`: the change that named it,
    /// and those of the directories above it.
    pub(super) fn persist_dir(&mut self, dir: DirId) {
        let mut at = dir;
        // A step up a directory each: no chain is longer than the names.
        for _ in 0..=self.durable.places.len() {
            if at == ROOT {
                return;
            }
            if let Some((parent, _)) = self.durable.places.get(&Entry::Dir(at)) {
                at = *parent;
                continue;
            }
            let named = self
                .pending_meta
                .iter()
                .rposition(|op| op.names() == Some(Entry::Dir(at)));
            if let Some(position) = named {
                self.persist_at(position);
            }
            return;
        }
    }

    pub(super) fn sync_inode_entry(&mut self, inode: usize) {
        self.persist(|op| {
            matches!(op, MetaOp::Create { entry: Entry::File(created), .. } if *created == inode)
        });
    }

    /// `sync_dir`: every change in `dir`, and `dir`'s own name.
    pub(super) fn sync_dir(&mut self, dir: DirId) {
        self.persist_dir(dir);
        self.persist(|op| op.touches_dir(dir));
    }

    /// A namespace change: made in what operations see, pending for a
    /// crash.
    pub(super) fn change(&mut self, op: MetaOp) {
        op.apply(&mut self.current);
        self.pending_meta.push(op);
    }

    /// A new name `dir`/`name` for `entry`.
    pub(super) fn create(&mut self, dir: DirId, name: OsString, entry: Entry) {
        let at = now();
        self.change(MetaOp::Create {
            dir,
            name,
            entry,
            at,
        });
    }

    pub(super) fn make_dir(&mut self, dir: DirId, name: OsString) {
        self.dirs_made += 1;
        self.create(dir, name, Entry::Dir(self.dirs_made));
    }

    pub(super) fn remove(&mut self, dir: DirId, name: OsString) {
        if let Some(entry) = self.current.get(dir, &name) {
            let at = now();
            self.change(MetaOp::Remove {
                dir,
                name,
                entry,
                at,
            });
        }
    }

    /// Removes everything in `dir`, depth first, one change a name (a crash
    /// keeps a prefix of them, as of `rm -r`'s unlinks).
    pub(super) fn remove_below(&mut self, dir: DirId) {
        for (name, entry) in self.current.children(dir) {
            if let Entry::Dir(below) = entry {
                self.remove_below(below);
            }
            self.remove(dir, name);
        }
    }

    /// What `path` opened with `options` (already validated) is: a file, or
    /// a directory opened read-only (for its sync, as on Linux).
    pub(super) fn open_inode(&mut self, path: &Path, options: &OpenOptions) -> io::Result<Entry> {
        let writable = options.write || options.append;
        match self.resolve(path) {
            Ok(Entry::Dir(_)) if options.create_new => Err(os_error(EEXIST)),
            Ok(Entry::Dir(dir)) if !writable => Ok(Entry::Dir(dir)),
            Ok(Entry::Dir(_)) => Err(os_error(EISDIR)),
            Ok(Entry::File(_)) if options.create_new => Err(os_error(EEXIST)),
            Ok(Entry::File(inode)) => {
                if options.truncate && writable {
                    let data = &mut self.inodes[inode];
                    let at = now();
                    data.current.clear();
                    data.times.modify(at);
                    data.pending.push(WriteOp::SetLen { len: 0, at });
                }
                Ok(Entry::File(inode))
            }
            Err(error)
                if error.raw_os_error() == Some(ENOENT)
                    && (options.create || options.create_new) =>
            {
                let Some((dir, name)) = self.parent_of(path)? else {
                    return Err(os_error(EISDIR));
                };
                let inode = self.inodes.len();
                self.inodes.push(Inode::born(now()));
                self.create(dir, name, Entry::File(inode));
                Ok(Entry::File(inode))
            }
            Err(error) => Err(error),
        }
    }
}
