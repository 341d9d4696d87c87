# frozen_string_literal: true

require_relative 'json_encoder'
require_relative 'protocol'

module PuppetX
  module Mgmtgraph
    # Applies ONE resource through Puppet's RAL, the fallback path for resources mgmt-ts cannot translate.
    # Input is a resource as the catalog has it: {type, title, parameters, sensitive}, plus optional companions
    # (resources of the same shape that the resource needs in its catalog, like a concat_file's fragments).
    # Results are read from the transaction report, never from log output: the resource's status and those of
    # the resources Puppet generated for it (a concat_file's file, a recursive file's children).
    class ResourceRunner
      RELATIONSHIP_METAPARAMS = %w[before require notify subscribe stage].freeze
      REDACTED = Protocol::CURRENT.redacted

      def initialize(spec, companions = nil)
        raise ArgumentError, 'resource must be an object' unless spec.is_a?(Hash)

        @type = spec['type'].to_s
        @title = spec['title']
        raise ArgumentError, 'resource needs a type and a title' if @type.empty? || @title.nil? || @title == ''

        params = spec['parameters'] || {}
        raise ArgumentError, 'parameters must be an object' unless params.is_a?(Hash)

        @params = JsonDecoder.decode(params)
        @sensitive = Array(spec['sensitive']).map(&:to_s)
        raise ArgumentError, 'companions must be a list' unless companions.nil? || companions.is_a?(Array)

        @companions = Array(companions).map { |c| ResourceRunner.new(c) }
      end

      # Noop run: is the resource in sync, and what would change?
      def check
        statuses = run(noop: true)
        changes = statuses.flat_map do |status|
          status.events.map do |event|
            { 'property' => property_of(status, event),
              'previous' => value_of(event, event.previous_value),
              'desired' => value_of(event, event.desired_value) }
          end
        end
        failed = statuses.any?(&:failed)
        { 'in_sync' => statuses.none? { |s| s.out_of_sync || s.failed }, 'changes' => changes,
          'failed' => failed, 'error' => failure_message(statuses) }
      end

      def apply
        statuses = run(noop: false)
        events = statuses.flat_map do |status|
          status.events.map do |event|
            { 'property' => property_of(status, event), 'status' => event.status.to_s,
              'message' => event.redacted || sensitive?(event.property) ? nil : event.message,
              'previous' => value_of(event, event.previous_value),
              'desired' => value_of(event, event.desired_value) }
          end
        end
        { 'changed' => statuses.any?(&:changed), 'failed' => statuses.any?(&:failed),
          'error' => failure_message(statuses), 'events' => events }
      end

      # What Puppet's event manager does when a refresh event arrives.
      def refresh
        ral = ral_catalog.resource(ref)
        unless ral.respond_to?(:refresh)
          return { 'refreshed' => false, 'error' => { 'message' => "#{ref} does not support refresh" } }
        end

        ral.refresh
        { 'refreshed' => true, 'error' => nil }
      end

      protected

      def ref
        @ref ||= Puppet::Resource.new(@type, @title).ref
      end

      # The resource's key in the report: its RAL ref, which a composite namevar rewrites (sshkey's title
      # `host` becomes `Sshkey[host@ssh-rsa]`).
      def status_key(catalog)
        keys = puppet_type.key_attributes
        ral = catalog.resources.find { |r| r.type.to_s == puppet_type.name.to_s && (r.title == @title || keys.any? { |k| r[k] == @title }) }
        ral ? ral.to_s : ref
      end

      def puppet_type
        @puppet_type ||= Puppet::Type.type(@type.downcase) or raise ArgumentError, "Unknown resource type #{@type}"
      end

      def resource(noop: false)
        res = Puppet::Resource.new(puppet_type, @title)
        @params.each { |name, value| res[name] = value unless RELATIONSHIP_METAPARAMS.include?(name) }
        # Sensitive values: the RAL does not take Sensitive-wrapped values from a Puppet::Resource ("Munging
        # failed"); like a compiled catalog, it takes the plain value plus `sensitive_parameters`, and then
        # redacts the property in events and logs.
        res.sensitive_parameters = @sensitive.map(&:to_sym).select { |name| @params.key?(name.to_s) }
        namevar = puppet_type.key_attributes.first
        res[namevar] = @title if namevar && res[namevar].nil? && puppet_type.key_attributes.size == 1
        res[:noop] = true if noop
        res
      end

      private

      # A generated resource's events are named after it: `File[/etc/x] content`.
      def property_of(status, event)
        status.resource == ref ? event.property.to_s : "#{status.resource} #{event.property}"
      end

      def ral_catalog(noop: false)
        catalog = Puppet::Resource::Catalog.new('mgmtgraph-worker', Puppet.lookup(:current_environment))
        catalog.host_config = false
        catalog.add_resource(resource(noop: noop))
        @companions.each { |c| catalog.add_resource(c.resource(noop: noop)) }
        catalog.to_ral
      end

      # The resource's status first, then those of what was generated for it (companions are left out).
      def run(noop:)
        catalog = ral_catalog(noop: noop)
        @report = catalog.apply.report
        key = status_key(catalog)
        main = @report.resource_statuses[key] or raise Puppet::Error, "No status for #{ref} in the report"
        skip = [key, *@companions.map { |c| c.status_key(catalog) }]
        [main, *@report.resource_statuses.reject { |r, _| skip.include?(r) }.values]
      end

      def sensitive?(property)
        @sensitive.include?(property.to_s)
      end

      def value_of(event, value)
        return REDACTED if !value.nil? && (event.redacted || sensitive?(event.property))

        JsonEncoder.encode(value)
      end

      def failure_message(statuses)
        failed = statuses.select(&:failed)
        return nil if failed.empty?

        failure = failed.flat_map(&:events).find { |e| e.status.to_s == 'failure' }
        message = failure&.message || @report.logs.select { |l| l.level == :err }.map(&:message).last
        { 'message' => message || "#{ref} failed" }
      end
    end
  end
end
