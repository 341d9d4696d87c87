# frozen_string_literal: true

require 'json'
require_relative 'json_encoder'
require_relative 'protocol'
require_relative 'facts'
require_relative 'collection'
require_relative 'catalog_compiler'
require_relative 'compile_inputs'
require_relative 'catalog_document'
require_relative 'resource_runner'
require_relative 'compiler_warm_up'
require_relative 'boot'

module PuppetX
  module Mgmtgraph
    # Long-lived JSON-lines server: one request object per input line, one reply object per output line,
    # each reply carrying the request's `id`. A bad request gets an error reply; it never stops the loop.
    # Returns when the input closes. The ops and their fields are protocol.json's (see protocol.rb).
    class Worker
      PROTOCOL = Protocol::CURRENT
      # The handler of each op.
      HANDLERS = { 'ping' => :ping, 'compile' => :compile, 'check' => :run_resource, 'apply' => :run_resource,
                   'refresh' => :run_resource }.freeze
      PROTOCOL.check_handlers!(HANDLERS.keys)

      # Types loaded at start, so the first check of such a resource is fast.
      PRELOADED_TYPES = %i[file notify exec service].freeze
      WARM_UP_PATH = '/nonexistent/mgmtgraph-worker-warm-up'

      # @param compiler_warm_up [Boolean] load the compiler before the first request (CompilerWarmUp)
      def initialize(input, output, compiler_warm_up: false)
        @input = input
        @output = output
        @compiler_warm_up = compiler_warm_up
      end

      def run
        CompilerWarmUp.run if @compiler_warm_up
        loop do
          Boot.collect_when_idle(@input)
          line = @input.gets or break
          next if line.strip.empty?

          reply(handle(line))
        end
      end

      private

      # Loads the common types and runs one noop transaction (nothing is changed), so that later checks do
      # not pay for loading the transaction, report and file-serving code. It runs before the first check,
      # apply or refresh, not at start: a worker that only compiles (every resource native) never needs it,
      # and it cost ~1.5 s of every `mgmt puppet` start.
      def warm_up
        return if @warm

        @warm = true
        PRELOADED_TYPES.each { |t| Puppet::Type.type(t) }
        level = Puppet::Util::Log.level
        Puppet::Util::Log.level = :err
        ResourceRunner.new('type' => 'File', 'title' => WARM_UP_PATH, 'parameters' => { 'content' => '' }).check
      rescue StandardError => e
        Puppet.debug("mgmtgraph worker warm-up: #{e.message}")
      ensure
        Puppet::Util::Log.level = level if level
      end

      def reply(data)
        @output.write(JsonEncoder.generate(data), "\n")
        @output.flush
      end

      def handle(line)
        request = JSON.parse(line)
        raise ArgumentError, 'request must be a JSON object' unless request.is_a?(Hash)

        { 'id' => request['id'] }.merge(dispatch(request))
      rescue JSON::ParserError => e
        { 'id' => nil, 'error' => { 'message' => "invalid JSON: #{e.message}" } }
      rescue StandardError, ScriptError => e
        Puppet.log_exception(e, "mgmtgraph worker: #{e.message}")
        { 'id' => request.is_a?(Hash) ? request['id'] : nil, 'error' => error_of(e) }
      end

      def dispatch(request)
        op = request['op']
        handler = HANDLERS[op] or raise ArgumentError, "unknown op #{op.inspect} (#{PROTOCOL.ops.join(', ')})"
        PROTOCOL.checked_reply(op, send(handler, request))
      end

      def field(request, name)
        PROTOCOL.field(request, name)
      end

      def ping(_request)
        { 'pong' => true, 'pid' => Process.pid, 'puppet_version' => Puppet.version, 'error' => nil }
      end

      def run_resource(request)
        warm_up
        ResourceRunner.new(field(request, 'resource'), field(request, 'companions')).public_send(request['op'])
      end

      def compile(request)
        if @compiler_warm_up && !@plugin_directories
          @plugin_directories = true
          CompilerWarmUp.add_plugin_directories
        end
        result = CatalogCompiler.new(
          manifest: field(request, 'manifest'),
          code: field(request, 'code'),
          facts: facts_of(request),
          node_name: field(request, 'node'),
          collection: collection_of(request),
        ).compile
        { 'catalog' => CatalogDocument.build(result), 'watch' => CompileInputs.of(result.catalog.environment_instance), 'error' => nil }
      rescue CompileError => e
        { 'error' => e.to_h }
      end

      def facts_of(request)
        return Facts.from_data(field(request, 'facts')) if field(request, 'facts')

        field(request, 'facts_file') && Facts.load_file(field(request, 'facts_file'))
      end

      def collection_of(request)
        return Collection.new(field(request, 'collected')) if field(request, 'collected')

        field(request, 'collected_file') ? Collection.load_file(field(request, 'collected_file')) : Collection.new
      end

      def error_of(error)
        return CompileError.from(error).to_h if error.is_a?(Puppet::Error)

        { 'message' => error.message, 'file' => nil, 'line' => nil }
      end
    end
  end
end
