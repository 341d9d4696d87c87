# frozen_string_literal: true

module PuppetX
  module Mgmtgraph
    # Keeps stdout for our JSON only: file descriptor 1 is pointed at stderr (so Puppet's console log,
    # stray `puts` and child processes all land there) and a private copy of the original stdout is returned.
    module Stdio
      def self.take_stdout
        out = STDOUT.dup
        out.sync = true
        STDOUT.reopen(STDERR)
        STDOUT.sync = true
        out
      end
    end
  end
end
