# frozen_string_literal: true

require 'puppet/face'
require_relative '../../puppet_x/mgmtgraph/catalog_compiler'
require_relative '../../puppet_x/mgmtgraph/catalog_document'
require_relative '../../puppet_x/mgmtgraph/stdio'
require_relative '../../puppet_x/mgmtgraph/worker'
require_relative '../../puppet_x/mgmtgraph/boot'

Puppet::Face.define(:mgmtgraph, '0.1.0') do
  copyright 'mgmt-ts authors', 2025
  license 'Apache-2.0'
  summary 'Compile manifests to a JSON catalog for mgmt-ts, and apply single resources for it.'

  action :catalog do
    summary 'Compile a catalog locally and print it as one JSON document on stdout.'
    arguments '[<manifest>]'
    description <<-DESC
      Input, first match wins: Puppet's --code setting, a <manifest> argument or Puppet's --manifest
      setting, else the environment's main manifest. No Puppet server is involved. Logs go to stderr.
    DESC

    option '--facts FILE' do
      summary 'Stub facts from a YAML or JSON file; facter is not run.'
    end
    option '--node NAME' do
      summary "Node name to compile for (default: Puppet's node_name_value, i.e. the certname)."
    end
    option '--collected FILE' do
      summary 'JSON array of resources the mgmtgraph storeconfigs backend returns to collectors.'
    end

    when_invoked do |*args|
      PuppetX::Mgmtgraph::Boot.loaded! # a compile's garbage is collected (a large catalog makes much)
      options = args.pop
      out = PuppetX::Mgmtgraph::Stdio.take_stdout
      manifest = args.first || (Puppet.settings.set_by_cli?(:manifest) ? Puppet[:manifest] : nil)
      begin
        facts = options[:facts] && PuppetX::Mgmtgraph::Facts.load_file(options[:facts])
        compiler = PuppetX::Mgmtgraph::CatalogCompiler.new(
          manifest: manifest,
          code: Puppet[:code],
          facts: facts,
          node_name: options[:node],
          collection: options[:collected] && PuppetX::Mgmtgraph::Collection.load_file(options[:collected]),
        )
        document = PuppetX::Mgmtgraph::CatalogDocument.build(compiler.compile)
        out.write(PuppetX::Mgmtgraph::JsonEncoder.generate(document), "\n")
      rescue PuppetX::Mgmtgraph::CompileError, Puppet::Error => e
        Puppet.err(e.message)
        exit 1
      end
      nil
    end
  end

  action :worker do
    summary 'Serve compile/check/apply/refresh/ping requests as JSON lines on stdin/stdout.'
    description <<-DESC
      One JSON request per line on stdin, one JSON reply per line on stdout, each with the request's id.
      Stops when stdin closes. Logs go to stderr. See README.md for the protocol.
    DESC

    option '--warm-up' do
      summary 'Load the compiler and the core types before reading the first request (a worker that compiles).'
    end

    when_invoked do |options|
      out = PuppetX::Mgmtgraph::Stdio.take_stdout
      PuppetX::Mgmtgraph::Worker.new($stdin, out, compiler_warm_up: options[:warm_up] == true).run
      nil
    end
  end
end
