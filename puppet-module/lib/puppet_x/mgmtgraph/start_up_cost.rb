# frozen_string_literal: true

module PuppetX
  module Mgmtgraph
    # Two costs Puppet 7 on Ruby 3.1 pays at every start for nothing, removed for our application only. Measured on
    # `puppet mgmtgraph worker --warm-up` (start to first reply): 1.49 s with both, 0.85 s without.
    #
    # 1. Ruby keeps an index of $LOADED_FEATURES. Code that appends to that array itself (not through `require`)
    #    makes the next `require` rebuild the index, resolving the real path of every loaded file, one readlink per
    #    path component: with ~1,100 files loaded, ~8,000 readlinks per rebuild. Puppet's autoloader appends each
    #    file it loads (types, providers, features, faces: ~70 at a worker's start, ~580,000 readlinks). Loading
    #    such a file through `require` with its absolute path records it the way Ruby expects, and keeps the index.
    # 2. Every face's start looks for a versioned face file that does not exist; the LoadError's message asks
    #    did_you_mean for suggestions, which lists every requirable file (~0.15 s). Suggestions for a path nobody
    #    typed help no one, so LoadError gets none; NameError and NoMethodError keep theirs.
    module StartUpCost
      # Puppet::Util::Autoload's file loading, through `require` the first time a file is loaded. A file already
      # loaded (Puppet reloading one that changed on disk, after a pluginsync) goes through Puppet's own code,
      # which loads it again.
      module AutoloadThroughRequire
        def load_file(name, env)
          file = get_file(name.to_s, env)
          return super unless file

          path = File.expand_path(file)
          return super if $LOADED_FEATURES.include?(path)

          # what Puppet's mark_loaded records, before the file runs (a file that autoloads its own name finds it)
          loaded[cleanpath(name).chomp('.rb')] = [path, File.mtime(path)]
          begin
            require path
          rescue SystemExit, NoMemoryError
            raise
          rescue Exception => e # rubocop:disable Lint/RescueException -- as Puppet's loader: any error names the file
            message = "Could not autoload #{name}: #{e}"
            Puppet.log_exception(e, message)
            raise Puppet::Error, message, e.backtrace
          end
          true
        end
      end

      def self.remove!
        autoload = Puppet::Util::Autoload.singleton_class
        autoload.prepend(AutoloadThroughRequire) unless autoload.include?(AutoloadThroughRequire)
        return unless defined?(DidYouMean::NullChecker) && DidYouMean.respond_to?(:correct_error)

        DidYouMean.correct_error(LoadError, DidYouMean::NullChecker)
      end
    end
  end
end
