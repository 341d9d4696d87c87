# frozen_string_literal: true

require 'digest/sha2'
require 'tmpdir'

module PuppetX
  module Mgmtgraph
    # A cache of Ruby's compiled instruction sequences for every file a Puppet process of ours loads (Puppet,
    # Facter, their gems, module code), so that a start does not parse and compile ~1,300 files again: ~0.3 s of
    # a worker's start here. Files in the temporary directory (a diff's checkouts) are not cached.
    #
    # Installed before anything else is loaded (boot.rb), it takes part only when MGMT_RUBY_CACHE names a
    # directory that this user owns and no one else may write; mgmt creates it mode 0700 (~/.cache/mgmt/ruby by
    # default). Its entries are code Ruby runs, so nothing is read from a directory anyone else could write.
    #
    # An entry is the compiled form of one version of one file, found by a SHA-256 of Ruby's version and compile
    # options, the file's path, and the file's inode, size, modification and change times (`identity`): an edited
    # or replaced file never meets a stale entry. A process reads every pack file at start, and at exit writes the
    # entries it had to compile as one new pack (one file: creating ~1,300 small files cost more than compiling
    # them). Packs are written whole (a temporary file renamed into place); one that does not load is skipped and
    # removed. Past MAX_PACKS packs they are merged into one; past MAX_ENTRIES entries the cache starts afresh.
    module CompileCache
      MAX_PACKS = 8
      MAX_ENTRIES = 20_000
      PACK = /\A[0-9a-f]{16}\.pack\z/

      class << self
        # The directory in use (nil: none), and how many files this process found in it or had to compile.
        attr_reader :dir, :hits, :misses

        # The cache directory if it is safe to use, else nil (the cache is then simply not used): an absolute path
        # with no symbolic link in it, each directory on the way owned by root or by us and, if others may write
        # it, sticky (as /tmp: no one renames what is not theirs); the directory itself ours and written by no one
        # else. No other user can then swap it or its entries.
        def usable_dir(path)
          return nil unless path.is_a?(String) && path.start_with?('/')

          names = path.split('/').reject(&:empty?)
          return nil if names.include?('..')

          current = '/'
          names.each do |name|
            return nil unless safe_step?(File.lstat(current))

            current = File.join(current, name)
          end
          st = File.lstat(current)
          st.directory? && st.uid == Process.euid && (st.mode & 0o022).zero? ? current : nil
        rescue SystemCallError
          nil
        end

        def install(path)
          @dir = usable_dir(path) or return
          @tmp = File.join(Dir.tmpdir, '')
          @salt = "#{RUBY_REVISION}\0#{RUBY_PLATFORM}\0#{RubyVM::InstructionSequence.compile_option.sort.inspect}\0"
          @packs, @entries = read_packs
          @compiled = {}
          @hits = @misses = 0
          cache = self
          RubyVM::InstructionSequence.singleton_class.define_method(:load_iseq) { |file| cache.fetch(file) }
          at_exit { save }
        end

        # The instruction sequence of `file`, from the cache or compiled (and kept for `save`); nil lets Ruby
        # compile it itself (a file in the temporary directory, a checkout that will be gone; a file that cannot be
        # read here, a source Ruby rejects: Ruby reports that as it always does).
        def fetch(file)
          return nil if file.start_with?(@tmp)

          key = Digest::SHA256.digest("#{@salt}#{file}\0#{identity(File.stat(file))}")
          iseq = cached(key)
          if iseq
            @hits += 1
            return iseq
          end
          @misses += 1
          @compiled[key] = RubyVM::InstructionSequence.compile_file(file)
        rescue SyntaxError, SystemCallError, IOError
          nil
        end

        # Writes what this process compiled as one pack (at exit, or when a worker is idle). Only one process
        # writes at a time, and only if no pack was written since it read them: two workers started together
        # compile the same files, and one pack of them is enough.
        def save
          return if @dir.nil? || @compiled.empty?

          File.open(File.join(@dir, 'lock'), File::RDWR | File::CREAT | File::NOFOLLOW, 0o600) do |lock|
            return unless lock.flock(File::LOCK_EX | File::LOCK_NB)
            return unless pack_files == @packs

            fresh = dumped(@compiled)
            @compiled = {}
            all = @entries.merge(fresh)
            if all.size > MAX_ENTRIES # afresh
              @packs.each { |p| remove(p) } if write_pack(fresh)
            elsif @packs.size >= MAX_PACKS # merged into one
              @packs.each { |p| remove(p) } if write_pack(all)
            else
              write_pack(fresh)
            end
            @packs = pack_files
            @entries = all
          end
        rescue SystemCallError, IOError
          nil
        end

        private

        def safe_step?(st)
          st.directory? && [0, Process.euid].include?(st.uid) && ((st.mode & 0o022).zero? || st.sticky?)
        end

        # Which version of a file this is: its inode, size, modification and change times. Any write to a file
        # changes its change time (which no one can set back), and a replaced file is another inode.
        def identity(st)
          "#{st.dev}:#{st.ino}:#{st.size}:#{st.mtime.to_r}:#{st.ctime.to_r}"
        end

        def cached(key)
          bin = @entries[key] or return nil
          RubyVM::InstructionSequence.load_from_binary(bin)
        rescue StandardError
          @entries.delete(key) # from another Ruby, or damaged: compiled again
          nil
        end

        def pack_files
          Dir.children(@dir).select { |n| PACK.match?(n) }.sort.map { |n| File.join(@dir, n) }
        end

        def dumped(compiled)
          out = {}
          compiled.each do |key, iseq|
            out[key] = iseq.to_binary
          rescue StandardError
            nil # one Ruby cannot dump: compiled again next time
          end
          out
        end

        def read_packs
          packs = []
          entries = {}
          pack_files.each do |path|
            data = Marshal.load(File.binread(path)) # rubocop:disable Security/MarshalLoad -- our own private directory
            raise TypeError, 'not a pack' unless data.is_a?(Hash)

            entries.merge!(data)
            packs << path
          rescue StandardError
            remove(path)
          end
          [packs, entries]
        rescue SystemCallError
          [[], {}]
        end

        def write_pack(entries)
          name = File.join(@dir, "#{Random.bytes(8).unpack1('H*')}.pack")
          tmp = "#{name}.#{Process.pid}.tmp"
          File.open(tmp, File::WRONLY | File::CREAT | File::EXCL | File::NOFOLLOW, 0o600) { |f| f.write(Marshal.dump(entries)) }
          File.rename(tmp, name)
          true
        rescue StandardError
          remove(tmp) if tmp
          false
        end

        def remove(path)
          File.unlink(path)
        rescue SystemCallError
          nil
        end
      end
    end
  end
end
