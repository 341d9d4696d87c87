# frozen_string_literal: true

require_relative 'facts'
require_relative 'catalog_document'
require_relative 'json_encoder'
require_relative 'collection'
require_relative 'catalog_compiler'

module PuppetX
  module Mgmtgraph
    # Loads Puppet's compiler before the first compile request: the parser, the evaluator, the type system, the
    # catalog conversion, and the core types nearly every catalog uses (file, package, service, exec, with
    # Puppet's own providers). A first compile otherwise spends ~0.8 s loading them, and a compile worker
    # started at once can do it while its caller is still checking the code out.
    #
    # It compiles a fixed manifest in an environment of its own that has no modules and no manifest, so no
    # Ruby code from any module path is loaded: a worker that serves one git ref's code loads that ref's module
    # code (functions, types, providers of custom types) at its own compiles only. Nothing is written.
    #
    # Such a worker may start before its environment's code exists (a checkout still being unpacked), so what
    # Puppet does for a face at start, adding the configured environment's module `lib` directories to Ruby's
    # load path (module code that `require`s its own files needs it), is done again at the first compile.
    module CompilerWarmUp
      NODE = 'mgmtgraph-warm-up'
      CODE = <<~PUPPET
        class mgmtgraph_warm_up (String $owner = 'root') {
          file { '/nonexistent/mgmtgraph-warm-up': ensure => file, owner => $owner, content => "${owner}\\n" }
          package { 'mgmtgraph-warm-up': ensure => installed }
          service { 'mgmtgraph-warm-up': ensure => running, subscribe => File['/nonexistent/mgmtgraph-warm-up'] }
          exec { 'mgmtgraph-warm-up': command => '/bin/true', refreshonly => true }
        }
        include mgmtgraph_warm_up
      PUPPET

      # Never raises: a warm-up that fails only leaves the loading to the first compile.
      def self.run
        env = Puppet::Node::Environment.create(:mgmtgraph_warm_up, [])
        Facts.stand_in_for_facter({})
        node = Puppet::Node.new(NODE, environment: env, facts: Puppet::Node::Facts.new(NODE, {}))
        with_code(CODE) do
          Puppet.override({ current_environment: env, loaders: Puppet::Pops::Loaders.new(env, false, false),
                            trusted_information: Puppet::Context::TrustedInformation.local(node) },
                          'mgmtgraph warm-up') do
            catalog = Puppet::Parser::Compiler.new(node).compile(&:to_resource)
            JsonEncoder.generate(CatalogDocument.build(CatalogCompiler::Result.new(catalog, node, Collection.new)))
          end
        end
      rescue StandardError, ScriptError => e
        Puppet.debug("mgmtgraph compiler warm-up: #{e.message}")
      end

      # Puppet's start-up step for faces (Puppet::Util::CommandLine), once the environment's code is there.
      def self.add_plugin_directories
        env = Puppet.lookup(:environments).get(Puppet[:environment])
        return unless env

        added = false
        env.each_plugin_directory do |dir|
          next if $LOAD_PATH.include?(dir)

          $LOAD_PATH << dir
          added = true
        end
        Puppet.runtime[:facter].reset if added
      end

      def self.with_code(code)
        saved = Puppet[:code]
        Puppet[:code] = code
        yield
      ensure
        Puppet[:code] = saved
      end
    end
  end
end
