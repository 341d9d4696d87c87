# frozen_string_literal: true

module PuppetX
  module Mgmtgraph
    # Where a File's `puppet:///modules/...` sources are on this host. `puppet apply` serves them from the
    # environment's modules without a server: `puppet:///modules/<module>/<path>` is `<module>/files/<path>`. The
    # same lookup here lets mgmt copy such files natively when it runs where the catalog was compiled.
    # Only the `modules` mount without a server name is resolved; a source that does not resolve (another mount,
    # `puppet://<server>/...`, no such module or file, `..` in the path) is left out, and stays Puppet's. Exported
    # resources are left out too: they are applied on the hosts that collect them, where this path means nothing.
    module ModuleFiles
      PREFIX = 'puppet:///modules/'

      # @param res [Puppet::Resource] a catalog resource
      # @param env [Puppet::Node::Environment, nil]
      # @return [Hash{String => String}] source URI => absolute path, for the sources that resolve
      def self.source_paths(res, env)
        return {} unless env && res.type == 'File' && !res.exported?

        Array(res[:source]).each_with_object({}) do |uri, found|
          path = uri.is_a?(String) && resolve(uri, env)
          found[uri] = path if path
        end
      end

      # @return [String, nil]
      def self.resolve(uri, env)
        return nil unless uri.start_with?(PREFIX)

        rest = uri.delete_prefix(PREFIX).gsub(%r{/+}, '/')
        name, relative = rest.split('/', 2)
        return nil if name.to_s.empty? || relative.to_s.split('/').include?('..')

        mod = env.module(name)
        mod && mod.file(relative.to_s.empty? ? nil : relative)
      end
    end
  end
end
