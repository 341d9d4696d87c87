# frozen_string_literal: true

require_relative 'facts'
require_relative 'collection'
require_relative 'trusted_facts'

module PuppetX
  module Mgmtgraph
    # A compile failure with Puppet's location, when it knows one.
    class CompileError < StandardError
      attr_reader :file, :line

      def initialize(message, file = nil, line = nil)
        super(message)
        @file = file
        @line = line
      end

      def self.from(error)
        file = error.respond_to?(:file) ? error.file : nil
        line = error.respond_to?(:line) ? error.line : nil
        new(error.message, file.to_s.empty? ? nil : file, line)
      end

      def to_h
        { 'message' => message, 'file' => file, 'line' => line }
      end
    end

    # Compiles a catalog locally, without a server, the way `puppet apply` sets up its environment but calling
    # the compiler directly: resources keep file and line, and exported resources stay in the catalog
    # (the catalog indirection would filter them out).
    #
    # Each compile builds a fresh environment and fresh loaders, so a long-lived process re-reads edited
    # manifests and modules.
    class CatalogCompiler
      Result = Struct.new(:catalog, :node, :collection)

      # @param manifest [String, nil] manifest file or directory; nil uses the environment's main manifest
      # @param code [String, nil] inline code; wins over the manifest, as in Puppet
      # @param facts [Hash, nil] stub facts; nil asks facter
      # @param node_name [String, nil] defaults to Puppet's node_name_value (the certname)
      # @param collection [Collection, nil] collector state for the mgmtgraph storeconfigs backend
      def initialize(manifest: nil, code: nil, facts: nil, node_name: nil, collection: nil)
        @manifest = manifest && File.expand_path(manifest)
        @code = code.to_s
        @facts = facts
        @node_name = node_name.to_s.empty? ? Puppet[:node_name_value] : node_name.to_s
        @collection = collection || Collection.new
      end

      # @return [Result]
      # @raise [CompileError]
      def compile
        check_manifest
        with_code do
          Facts.stand_in_for_facter(@facts)
          env = fresh_environment
          node = find_node(env)
          catalog = Puppet.override({ current_environment: env,
                                      loaders: Puppet::Pops::Loaders.new(env, false, false),
                                      trusted_information: TrustedFacts.for(node) },
                                    'mgmtgraph compile') do
            node.add_server_facts({})
            Collection.with(@collection) { compile_node(node) }
          end
          Result.new(catalog, node, @collection)
        end
      rescue CompileError
        raise
      rescue Puppet::Error, StandardError => e
        raise CompileError.from(e)
      end

      private

      def check_manifest
        return if @manifest.nil? || !@code.empty? || File.exist?(@manifest)

        raise CompileError, "Could not find manifest #{@manifest}"
      end

      def with_code
        saved = Puppet[:code]
        Puppet[:code] = @code
        yield
      ensure
        Puppet[:code] = saved
      end

      # The environment as `puppet apply` builds it: the directory environment (its environment.conf's modulepath,
      # manifest and config_version), then what the command line overrides (--modulepath), then our manifest.
      def fresh_environment
        loader = Puppet.lookup(:environments)
        loader.clear_all
        name = Puppet[:environment]
        env = loader.get(name)
        raise CompileError, missing_environment(name) unless env

        env = env.override_from_commandline(Puppet.settings)
        @manifest ? env.override_with(manifest: @manifest) : env
      end

      def missing_environment(name)
        path = Puppet[:environmentpath]
        "Could not find environment '#{name}': no directory '#{name}' in the environmentpath #{path}" \
          "#{" (set in #{Puppet[:config]})" if Puppet.settings.set_by_config?(:environmentpath)}. " \
          "Create #{File.join(path.split(File::PATH_SEPARATOR).first.to_s, name.to_s)} (with manifests/ and, optionally, " \
          'environment.conf), or pass --environment with an existing one, or --environmentpath where yours are'
      end

      def find_node(env)
        # No catalog or facts caching for a local compile (storeconfigs would route both to the backend).
        Puppet::Node::Facts.indirection.cache_class = nil
        facts = Puppet.override({ current_environment: env }, 'mgmtgraph facts') do
          Facts.for_node(@node_name, @facts)
        end
        node = Puppet::Node.indirection.find(@node_name, facts: facts, environment: env)
        node.environment = env
        node
      end

      # Like Puppet::Parser::Compiler.compile, without its logging (the caller reports the error once).
      def compile_node(node)
        node.environment.check_for_reparse
        errors = node.environment.validation_errors
        raise Puppet::Error, errors.first unless errors.empty?

        Puppet::Parser::Compiler.new(node).compile(&:to_resource)
      end
    end
  end
end
