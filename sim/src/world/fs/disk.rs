//! The disk of one node: its namespace (directories and entries), its files' bytes, what is synced and what is
//! pending, and the crash model that decides which pending changes survive.

use super::*;

/// A change of a file's contents or times, at `at` on the run's clock.
pub(super) enum WriteOp {
    Write {
        offset: u64,
        data: Vec<u8>,
        at: u64,
    },
    SetLen {
        len: u64,
        at: u64,
    },
    /// `File::set_times` (boxed: rare, and twice a write's size).
    SetTimes(Box<SetTimes>),
}

/// A file's or directory's times, in nanoseconds of the run's virtual clock
/// (`time::system_time` makes them `SystemTime`s; one set by `set_times`
/// may be before the run started: negative). Access times follow Linux's
/// `noatime` mount option: a reading never changes them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct Times {
    pub(super) modified: i128,
    pub(super) accessed: i128,
    pub(super) created: i128,
    /// When they last changed (Linux's ctime): a change made durable after
    /// a later one (by another sync) leaves them as the later one made them.
    pub(super) changed: u64,
}

impl Times {
    /// A file or directory made at `at`: every time is its birth.
    pub(super) fn born(at: u64) -> Times {
        let time = i128::from(at);
        Times {
            modified: time,
            accessed: time,
            created: time,
            changed: at,
        }
    }

    /// Its contents changed at `at` (a write, a length, an entry of a
    /// directory).
    pub(super) fn modify(&mut self, at: u64) {
        if at >= self.changed {
            self.modified = i128::from(at);
            self.changed = at;
        }
    }

    /// `set_times` at `set.at`.
    pub(super) fn set(&mut self, set: &SetTimes) {
        if set.at >= self.changed {
            if let Some(accessed) = set.accessed {
                self.accessed = accessed;
            }
            if let Some(modified) = set.modified {
                self.modified = modified;
            }
            self.changed = set.at;
        }
    }

    /// What `op` makes of them.
    pub(super) fn apply(&mut self, op: &WriteOp) {
        match op {
            WriteOp::Write { at, .. } | WriteOp::SetLen { at, .. } => self.modify(*at),
            WriteOp::SetTimes(set) => self.set(set),
        }
    }
}

/// What one `set_times` sets (`None`: left as it is), and when it was
/// called.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct SetTimes {
    pub(super) accessed: Option<i128>,
    pub(super) modified: Option<i128>,
    pub(super) at: u64,
}

#[derive(Default)]
pub(super) struct Inode {
    /// What reads see.
    pub(super) current: Vec<u8>,
    /// What a crash starts from.
    pub(super) durable: Vec<u8>,
    /// Changes since the last sync, in order.
    pub(super) pending: Vec<WriteOp>,
    /// The times `metadata` sees.
    pub(super) times: Times,
    /// The times a crash starts from: they travel with the bytes (a sync
    /// makes both durable, a crash keeps the times of the changes it kept).
    pub(super) durable_times: Times,
}

impl Inode {
    /// A new, empty file made at `at`.
    pub(super) fn born(at: u64) -> Inode {
        Inode {
            times: Times::born(at),
            durable_times: Times::born(at),
            ..Inode::default()
        }
    }
}

/// A directory's number; [`ROOT`] is `/`. Directories are numbered, not
/// named, so that a directory's rename moves everything below it at once,
/// in what reads see and in what a crash keeps alike.
pub(super) type DirId = usize;
pub(super) const ROOT: DirId = 0;

/// What a name points at.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Entry {
    File(usize),
    Dir(DirId),
}

/// Names in directories. Each file and directory has one name (the disk
/// has no links).
#[derive(Clone, Default)]
pub(super) struct Namespace {
    /// Each directory's entries by name.
    pub(super) dirs: BTreeMap<DirId, BTreeMap<OsString, Entry>>,
    /// Where each entry is named: `dirs` inverted.
    pub(super) places: BTreeMap<Entry, (DirId, OsString)>,
    /// Each directory's times, once it has any but `/`'s at the run's start
    /// (kept when it is removed: a handle still open reads them).
    pub(super) times: BTreeMap<DirId, Times>,
}

impl Namespace {
    /// Directory `dir`'s times.
    pub(super) fn dir_times(&self, dir: DirId) -> Times {
        self.times.get(&dir).copied().unwrap_or_default()
    }

    /// An entry of `dir` made, renamed or removed at `at`.
    fn touch(&mut self, dir: DirId, at: u64) {
        self.times.entry(dir).or_default().modify(at);
    }

    pub(super) fn get(&self, dir: DirId, name: &OsStr) -> Option<Entry> {
        self.dirs.get(&dir)?.get(name).copied()
    }

    pub(super) fn is_empty(&self, dir: DirId) -> bool {
        self.dirs.get(&dir).is_none_or(BTreeMap::is_empty)
    }

    /// The entries of `dir`, by name.
    pub(super) fn children(&self, dir: DirId) -> Vec<(OsString, Entry)> {
        self.dirs
            .get(&dir)
            .into_iter()
            .flatten()
            .map(|(name, entry)| (name.clone(), *entry))
            .collect()
    }

    /// Names `entry` `dir`/`name`: it leaves its old name, and what had
    /// this name is gone (a rename over it).
    pub(super) fn link(&mut self, dir: DirId, name: OsString, entry: Entry) {
        if let Some((old_dir, old_name)) = self.places.remove(&entry) {
            if let Some(names) = self.dirs.get_mut(&old_dir) {
                names.remove(&old_name);
            }
        }
        let replaced = self
            .dirs
            .entry(dir)
            .or_default()
            .insert(name.clone(), entry);
        if let Some(replaced) = replaced {
            self.forget(replaced);
        }
        self.places.insert(entry, (dir, name));
    }

    /// Removes the name `dir`/`name`.
    pub(super) fn unlink(&mut self, dir: DirId, name: &OsStr) -> Option<Entry> {
        let entry = self.dirs.get_mut(&dir)?.remove(name)?;
        self.forget(entry);
        Some(entry)
    }

    pub(super) fn forget(&mut self, entry: Entry) {
        self.places.remove(&entry);
        if let Entry::Dir(dir) = entry {
            if self.is_empty(dir) {
                self.dirs.remove(&dir);
            }
        }
    }

    /// True when `dir` is `ancestor` or below it.
    pub(super) fn is_within(&self, mut dir: DirId, ancestor: DirId) -> bool {
        // A step up a directory each: no chain is longer than the names.
        for _ in 0..=self.places.len() {
            if dir == ancestor {
                return true;
            }
            match self.places.get(&Entry::Dir(dir)) {
                Some((parent, _)) => dir = *parent,
                None => return false,
            }
        }
        false
    }
}

/// One change of a namespace, made durable by a sync (or kept by a crash
/// as part of a drawn prefix).
pub(super) enum MetaOp {
    /// A new file or directory, `entry`, named `dir`/`name` at `at`.
    Create {
        dir: DirId,
        name: OsString,
        entry: Entry,
        at: u64,
    },
    /// `entry` renamed from `from` to `to` (replacing what was there).
    Rename {
        from: (DirId, OsString),
        to: (DirId, OsString),
        entry: Entry,
        at: u64,
    },
    /// The name `dir`/`name` of `entry` (a file or an empty directory)
    /// removed.
    Remove {
        dir: DirId,
        name: OsString,
        entry: Entry,
        at: u64,
    },
    /// `set_times` on directory `dir` (opened as a `File`).
    SetTimes { dir: DirId, set: SetTimes },
}

impl MetaOp {
    /// True when the change is an entry of directory `dir`.
    pub(super) fn touches_dir(&self, dir: DirId) -> bool {
        match self {
            MetaOp::Create { dir: parent, .. } | MetaOp::Remove { dir: parent, .. } => {
                *parent == dir
            }
            MetaOp::Rename { from, to, .. } => from.0 == dir || to.0 == dir,
            MetaOp::SetTimes { dir: set, .. } => *set == dir,
        }
    }

    /// The directory an entry is made in (which must be durable first).
    pub(super) fn target_dir(&self) -> Option<DirId> {
        match self {
            MetaOp::Create { dir, .. } | MetaOp::SetTimes { dir, .. } => Some(*dir),
            MetaOp::Rename { to, .. } => Some(to.0),
            MetaOp::Remove { .. } => None,
        }
    }

    /// The entry this change gives a name.
    pub(super) fn names(&self) -> Option<Entry> {
        match self {
            MetaOp::Create { entry, .. } | MetaOp::Rename { entry, .. } => Some(*entry),
            MetaOp::Remove { .. } | MetaOp::SetTimes { .. } => None,
        }
    }

    /// Makes the change in `namespace`, and in its directories' times (the
    /// directory an entry is made, renamed or removed in is modified).
    pub(super) fn apply(&self, namespace: &mut Namespace) {
        match self {
            MetaOp::Create {
                dir,
                name,
                entry,
                at,
            } => {
                namespace.link(*dir, name.clone(), *entry);
                if let Entry::Dir(made) = entry {
                    namespace.times.insert(*made, Times::born(*at));
                }
                namespace.touch(*dir, *at);
            }
            MetaOp::Rename {
                from,
                to: (dir, name),
                entry,
                at,
            } => {
                namespace.link(*dir, name.clone(), *entry);
                namespace.touch(from.0, *at);
                namespace.touch(*dir, *at);
            }
            MetaOp::Remove {
                dir,
                name,
                entry,
                at,
            } => {
                if namespace.get(*dir, name) == Some(*entry) {
                    namespace.unlink(*dir, name);
                    namespace.touch(*dir, *at);
                }
            }
            MetaOp::SetTimes { dir, set } => namespace.times.entry(*dir).or_default().set(set),
        }
    }
}

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

/// What `op` makes of a file's bytes.
pub(super) fn apply_write(buffer: &mut Vec<u8>, op: &WriteOp) {
    match op {
        WriteOp::Write { offset, data, .. } => {
            let start = *offset as usize;
            let end = start + data.len();
            if buffer.len() < end {
                buffer.resize(end, 0);
            }
            buffer[start..end].copy_from_slice(data);
        }
        WriteOp::SetLen { len, .. } => buffer.resize(*len as usize, 0),
        WriteOp::SetTimes(_) => {}
    }
}

/// A weighted `disk` draw in `0..bound`: 0 (canonical) unless faults are
/// on and the draw says otherwise; a nonzero value is a fault of kind `op`.
pub(super) fn survivors(
    bound: usize,
    what: &str,
    op: FaultOp,
    describe: impl Fn(u64) -> String,
) -> usize {
    if bound <= 1 {
        return 0;
    }
    super::super::draw_fault(
        DrawLabel::Disk,
        bound as u64,
        UNSYNCED_SURVIVAL_PROBABILITY,
        what,
        op,
        describe,
    ) as usize
}

/// How many lost changes a crash's fault event names before "and N more".
pub(super) const LOST_NAMED_MAX: usize = 4;

/// What a crash lost, for its fault event: every unsynced change counted,
/// the first few lost ones named.
#[derive(Default)]
pub(super) struct Losses {
    pub(super) unsynced: usize,
    pub(super) lost: usize,
    pub(super) named: Vec<String>,
}

impl Losses {
    pub(super) fn lose(&mut self, describe: impl FnOnce() -> String) {
        self.lost += 1;
        if self.named.len() < LOST_NAMED_MAX {
            self.named.push(describe());
        }
    }

    /// "the crash of `db` lost 2 of 2 unsynced changes: create /wal, write
    /// 120 bytes to /wal"; `None` when it lost nothing.
    pub(super) fn words(&self, node: &str) -> Option<String> {
        if self.lost == 0 {
            return None;
        }
        let mut text = format!(
            "the crash of `{node}` lost {} of {} unsynced change{}: {}",
            self.lost,
            self.unsynced,
            if self.unsynced == 1 { "" } else { "s" },
            self.named.join(", ")
        );
        if self.lost > self.named.len() {
            text.push_str(&format!(" and {} more", self.lost - self.named.len()));
        }
        Some(text)
    }
}

impl Namespace {
    /// The path of directory `dir` ("" for `/`), or `None` when it has no
    /// name any more.
    pub(super) fn dir_path(&self, dir: DirId) -> Option<String> {
        let mut names = Vec::new();
        let mut at = dir;
        // A step up a directory each: no chain is longer than the names.
        for _ in 0..=self.places.len() {
            if at == ROOT {
                names.reverse();
                return Some(names.concat());
            }
            let (parent, name) = self.places.get(&Entry::Dir(at))?;
            names.push(format!("/{}", name.to_string_lossy()));
            at = *parent;
        }
        None
    }

    /// `dir`/`name` in words (an unnamed directory as `?`).
    pub(super) fn path_in(&self, dir: DirId, name: &OsStr) -> String {
        let dir = self.dir_path(dir).unwrap_or_else(|| "?".to_string());
        format!("{dir}/{}", name.to_string_lossy())
    }

    /// File `number`'s path, or "file #N" when it has no name.
    pub(super) fn file_path(&self, number: usize) -> String {
        match self.places.get(&Entry::File(number)) {
            Some((dir, name)) => self.path_in(*dir, name),
            None => format!("file #{number}"),
        }
    }
}

impl MetaOp {
    /// The change in words, with paths as `names` has them.
    pub(super) fn describe(&self, names: &Namespace) -> String {
        match self {
            MetaOp::Create {
                dir,
                name,
                entry: Entry::File(_),
                ..
            } => format!("create {}", names.path_in(*dir, name)),
            MetaOp::Create {
                dir,
                name,
                entry: Entry::Dir(_),
                ..
            } => format!("create directory {}", names.path_in(*dir, name)),
            MetaOp::Rename { from, to, .. } => format!(
                "rename {} to {}",
                names.path_in(from.0, &from.1),
                names.path_in(to.0, &to.1)
            ),
            MetaOp::Remove { dir, name, .. } => format!("remove {}", names.path_in(*dir, name)),
            MetaOp::SetTimes { dir, .. } => format!(
                "set the times of {}",
                names.dir_path(*dir).unwrap_or_else(|| "?".to_string())
            ),
        }
    }
}

impl WriteOp {
    pub(super) fn describe(&self, path: &str) -> String {
        match self {
            WriteOp::Write { data, .. } => format!(
                "write {} byte{} to {path}",
                data.len(),
                if data.len() == 1 { "" } else { "s" }
            ),
            WriteOp::SetLen { len, .. } => format!("set the length of {path} to {len}"),
            WriteOp::SetTimes(_) => format!("set the times of {path}"),
        }
    }
}

/// A crash of node `node`: its disk keeps what the crash model keeps, and
/// what it lost (if anything) is a fault event in words.
pub(crate) fn crash(disk: &mut Disk, node: &str) {
    let mut losses = Losses::default();
    let meta = std::mem::take(&mut disk.pending_meta);
    let count = meta.len();
    let keep = survivors(
        count + 1,
        "asyncsim::fs crash: namespace changes kept",
        FaultOp::Kept,
        |kept| format!("the crash of `{node}` kept {kept} of {count} unsynced namespace changes"),
    );
    for op in meta.iter().take(keep) {
        op.apply(&mut disk.durable);
    }
    // The names as the node last saw them, for the lost changes' words.
    let names = std::mem::replace(&mut disk.current, disk.durable.clone());
    losses.unsynced += count;
    for op in meta.iter().skip(keep) {
        losses.lose(|| op.describe(&names));
    }
    for (number, inode) in disk.inodes.iter_mut().enumerate() {
        if inode.pending.is_empty() {
            continue;
        }
        let pending = std::mem::take(&mut inode.pending);
        let count = pending.len();
        let keep = survivors(
            count + 1,
            "asyncsim::fs crash: unsynced writes kept",
            FaultOp::Kept,
            |kept| {
                format!("the crash of `{node}` kept {kept} of {count} unsynced writes of file #{number}")
            },
        );
        for op in pending.iter().take(keep) {
            apply_write(&mut inode.durable, op);
            inode.durable_times.apply(op);
        }
        let mut torn = 0;
        if let Some(WriteOp::Write { offset, data, at }) = pending.get(keep) {
            let sectors = data.len().div_ceil(SECTOR_BYTES);
            torn = survivors(
                sectors,
                "asyncsim::fs crash: sectors of a torn write kept",
                FaultOp::Torn,
                |kept| {
                    format!("the crash of `{node}` tore a write of file #{number}: {kept} of {sectors} sectors kept")
                },
            );
            if torn > 0 {
                let part = WriteOp::Write {
                    offset: *offset,
                    data: data[..torn * SECTOR_BYTES].to_vec(),
                    at: *at,
                };
                apply_write(&mut inode.durable, &part);
                inode.durable_times.apply(&part);
            }
        }
        losses.unsynced += count;
        for (index, op) in pending.iter().enumerate().skip(keep) {
            losses.lose(|| {
                let words = op.describe(&names.file_path(number));
                if index == keep && torn > 0 {
                    format!("{words} (torn: {} bytes kept)", torn * SECTOR_BYTES)
                } else {
                    words
                }
            });
        }
        inode.current = inode.durable.clone();
        inode.times = inode.durable_times;
    }
    if let Some(words) = losses.words(node) {
        super::super::record_fault(FaultOp::CrashLost, words);
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
