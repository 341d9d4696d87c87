# frozen_string_literal: true

require 'puppet/application/face_base'

# `puppet mgmtgraph ...`: Puppet needs an application class to dispatch a face subcommand.
class Puppet::Application::Mgmtgraph < Puppet::Application::FaceBase
end
