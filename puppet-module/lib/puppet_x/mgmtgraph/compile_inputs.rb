# frozen_string_literal: true

require 'yaml'

module PuppetX
  module Mgmtgraph
    # What a compile read that an edit would change, for mgmt-ts to watch: the main manifest, the environment's
    # directory (its environment.conf, hiera.yaml, data and modules), the environment's modulepath, and the global
    # hiera.yaml with its data directories. Only paths that exist.
    module CompileInputs
      # @param env [Puppet::Node::Environment]
      # @return [Array<String>]
      def self.of(env)
        paths = []
        manifest = env.manifest
        paths << manifest if manifest && manifest != Puppet::Node::Environment::NO_MANIFEST
        dir = environment_dir(env)
        paths << dir if dir
        paths.concat(env.full_modulepath)
        paths.concat(global_hiera)
        paths.map { |p| File.expand_path(p) }.uniq.select { |p| File.exist?(p) }
      end

      def self.environment_dir(env)
        conf = Puppet.lookup(:environments).get_conf(env.name)
        conf&.path_to_env
      rescue StandardError
        nil
      end

      # The global hiera.yaml and the data directories it names (relative to it; Hiera 5's default is `data`).
      def self.global_hiera
        config = Puppet[:hiera_config]
        return [] unless config && File.file?(config)

        base = File.dirname(config)
        data = YAML.safe_load(File.read(config)) || {}
        dirs = [data.dig('defaults', 'datadir') || 'data']
        dirs.concat(Array(data['hierarchy']).filter_map { |level| level.is_a?(Hash) ? level['datadir'] : nil })
        [config, *dirs.map { |d| File.expand_path(d.to_s, base) }]
      rescue StandardError
        [config].compact
      end
    end
  end
end
