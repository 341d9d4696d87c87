# frozen_string_literal: true

require 'io/wait'
require_relative 'compile_cache'

module PuppetX
  module Mgmtgraph
    # Loaded first in every Ruby process mgmt starts for Puppet (RUBYOPT=-r<FEATURE>, our module's lib being on
    # RUBYLIB), before Puppet itself:
    # - Ruby's compile cache is installed (compile_cache.rb), when mgmt names one in MGMT_RUBY_CACHE;
    # - the garbage collector is paused while Puppet loads: loading keeps nearly everything it allocates, so
    #   collecting then frees little (~26 MB more memory) and costs ~0.1 s of a ~0.6 s start. The catalog action
    #   resumes it at its start (`loaded!`). A worker keeps it paused through the requests that come at once (a
    #   diff's compiles follow its start), and resumes it, collecting and saving the compile cache, once idle
    #   for IDLE_S or once its heap passes MAX_LIVE_SLOTS (`collect_when_idle`);
    # - at exit, once every at_exit handler has run (Puppet's, the gems'), the process ends without freeing its
    #   objects one by one (~25 ms of a worker's exit): stdout and stderr are flushed, the status kept. An
    #   uncaught exception takes Ruby's usual way, which prints it.
    # Commands Puppet runs (execs, providers, a `ruby` of the user's) get the environment the user had: neither
    # variable is passed on.
    module Boot
      FEATURE = 'puppet_x/mgmtgraph/boot'
      IDLE_S = 0.3
      # ~120 MB of object slots; a worker that loaded Puppet and warmed its compiler holds ~0.9 M.
      MAX_LIVE_SLOTS = 3_000_000

      def self.start
        at_exit { fast_exit } # registered first, so it runs last
        @gc_paused = !GC.disable
        cache = ENV.delete('MGMT_RUBY_CACHE')
        CompileCache.install(cache) if cache
        opt = ENV['RUBYOPT'].to_s.split.reject { |o| o == "-r#{FEATURE}" }.join(' ')
        opt.empty? ? ENV.delete('RUBYOPT') : ENV['RUBYOPT'] = opt
      end

      # Puppet and what this process needs of it are loaded: the collector runs again (a no-op when it was not
      # paused here, as when someone starts the face by hand).
      def self.loaded!
        return unless @gc_paused

        @gc_paused = false
        GC.enable
      end

      def self.fast_exit
        error = $! # the exception ending the process, if any
        return unless error.nil? || error.is_a?(SystemExit)

        [$stdout, $stderr].each do |io|
          io.flush
        rescue IOError, SystemCallError
          nil
        end
        exit!(error.nil? ? 0 : error.status)
      end

      # Called by a worker before it reads its next request from `input`.
      def self.collect_when_idle(input)
        return unless @gc_paused
        return if GC.stat(:heap_live_slots) < MAX_LIVE_SLOTS && input.wait_readable(IDLE_S)

        loaded!
        GC.start
        CompileCache.save # idle: what it compiled is written now, not at its exit
      end
    end
  end
end

# Only when loaded through RUBYOPT (first); the face requires this file too, for `loaded!`.
PuppetX::Mgmtgraph::Boot.start if ENV['RUBYOPT'].to_s.split.include?("-r#{PuppetX::Mgmtgraph::Boot::FEATURE}")
